#!/usr/bin/env bash
# The hub over real HTTPS on 127.0.0.1 (spec/PROTOCOL.md §4, agent/hub/
# README.md): a root, two counties and stations' keys made with swsync-keys,
# a TLS certificate made with openssl for this run, pushes with curl.
# Covers: an accepted batch and its receipt (checked by receipt_check.py, not
# by the hub's code), duplicates, every bad input with its status and error
# code and nothing stored, a mixed batch, relay of a county's feeds, a fork,
# plain HTTP, limits, a stalled client, SIGTERM, recovery of feed files
# longer than the store, and SIGKILL during pushes.
# usage: test_hub.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
S=$2
K=$B/tools/swsync-keys
HF=$B/tests/swsync_test_hubframes
HUB=$B/agent/hub/swsync-hub
CHECK=$S/tests/support/receipt_check.py
# The receipt checker needs PyNaCl (python3-nacl): a python3 that has it.
PY=
for c in /usr/bin/python3 python3; do
    if "$c" -c 'import nacl.signing' 2>/dev/null; then PY=$c; break; fi
done
[ -n "$PY" ] || { echo "FAIL: no python3 with nacl (apt-get install python3-nacl)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/test_hub.XXXXXX")
HUBPID=
cleanup() {
    if [ -n "$HUBPID" ]; then kill -9 "$HUBPID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/hub.err" ] && tail -5 "$T/hub.err" >&2
    [ -f "$T/ans.json" ] && head -c 2000 "$T/ans.json" >&2 && echo >&2
    exit 1
}
ok() { echo "ok - $* [${SECONDS}s]"; }
cd "$T"

# ---- keys: root -> county A (this hub) -> stations 1, 2; root -> county B
# (relays through this hub) -> station 4; station 3 is certified by nobody.
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null
$K new --out hub.key >/dev/null
$K new --out countyb.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject hub.key \
    --role county --unit 4401 >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject countyb.key \
    --role county --unit 4402 >/dev/null
mkdir -p data
for n in 1 2; do
    $K certify --issuer hub.key --issuer-log data/hub.log --certs root.log \
        --subject "$($HF pub $n)" --role station --unit "4401-0$n" \
        $( [ $n = 1 ] && echo --create ) >/dev/null
done
# Station 5's certificate expired, 6's is not valid yet, 7 is revoked from
# its seq 2 on.
$K certify --issuer hub.key --issuer-log data/hub.log --certs root.log \
    --subject "$($HF pub 5)" --role station --unit 4401-05 \
    --from 2020-01-01 --until 2020-02-01 >/dev/null 2>&1
$K certify --issuer hub.key --issuer-log data/hub.log --certs root.log \
    --subject "$($HF pub 6)" --role station --unit 4401-06 \
    --from 2030-01-01 --until 2030-02-01 >/dev/null 2>&1
$K certify --issuer hub.key --issuer-log data/hub.log --certs root.log \
    --subject "$($HF pub 7)" --role station --unit 4401-07 >/dev/null
$K revoke --issuer hub.key --issuer-log data/hub.log --certs root.log \
    --subject "$($HF pub 7)" --reason compromised --from-seq 2 >/dev/null
$K certify --issuer countyb.key --issuer-log countyb.log --create \
    --certs root.log --subject "$($HF pub 4)" --role station \
    --unit 4402-01 >/dev/null
HUBPK=$($K pub hub.key)
F1=$($HF pub 1); F2=$($HF pub 2); F3=$($HF pub 3); F4=$($HF pub 4)
FB=$($K pub countyb.key)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout tls.key -out tls.crt -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
chmod 600 tls.key

cat >hub.conf <<EOF
# test hub
listen = 127.0.0.1
port = 0
tls_cert = tls.crt
tls_key = tls.key
hub_key = hub.key
data = data
root_key = $($K pub root.key)
trust_log = root.log
unit = 4401
connection_timeout = 2
max_push_bytes = 1048576
EOF

# ---- station feeds (sealed through the agent's sealer)
$HF seal st1.db st1.log 1 8 >/dev/null
$HF seal st2.db st2.log 2 40 >/dev/null
$HF seal st3.db st3.log 3 1 >/dev/null
$HF seal st4.db st4.log 4 2 >/dev/null
for n in 5 6 7; do $HF seal st$n.db st$n.log $n 2 >/dev/null; done

# ---- helpers
start_hub() {
    rm -f port
    "$HUB" --config hub.conf --port-file port 2>>hub.err &
    HUBPID=$!
    for _ in $(seq 100); do
        [ -s port ] && break
        kill -0 "$HUBPID" 2>/dev/null || fail "hub exited at start"
        sleep 0.1
    done
    [ -s port ] || fail "hub did not start within 10 s"
    P=$(cat port)
    URL=https://127.0.0.1:$P
}
stop_hub() { # SIGTERM: must exit 0 within 20 s
    kill -TERM "$HUBPID"
    for _ in $(seq 200); do
        kill -0 "$HUBPID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$HUBPID" 2>/dev/null && fail "hub still running 20 s after SIGTERM"
    local rc=0
    wait "$HUBPID" || rc=$?
    HUBPID=
    [ "$rc" = 0 ] || fail "hub exited $rc after SIGTERM"
}
kill_hub() {
    kill -9 "$HUBPID"
    wait "$HUBPID" 2>/dev/null || true
    HUBPID=
}
# push FILE [CONTENT-TYPE]: CODE gets the status, ans.json the body.
push() {
    CODE=$(curl -sS --cacert tls.crt -o ans.json -w '%{http_code}' \
        -H "Content-Type: ${2:-application/x-swsync-frames}" \
        --data-binary @"$1" "$URL/v1/push") || fail "curl push $1"
}
get() { curl -sS --cacert tls.crt "$URL$1"; }
# jq-less JSON field: j FILE 'python expression over d'
j() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
head_seq() { get "/v1/feeds/$1" >h.json; j h.json 'd["seq"]'; }
# What "nothing stored" compares: heads, feed files, tree size.
snapshot() { # one connection: five heads and the newest checkpoint
    curl -sS --cacert tls.crt "$URL/v1/feeds/$F1" "$URL/v1/feeds/$F2" \
        "$URL/v1/feeds/$F3" "$URL/v1/feeds/$F4" "$URL/v1/feeds/$FB" \
        "$URL/v1/checkpoint"
    (cd data/feeds && sha256sum -- * 2>/dev/null) || true
}
expect_refused() { # NAME FILE CODE STATUS: one frame refused, nothing stored
    snapshot >before
    push "$2"
    [ "$CODE" = "${4:-200}" ] || fail "$1: status $CODE, want ${4:-200}"
    if [ "${4:-200}" = 200 ]; then
        [ "$(j ans.json 'd["results"][0]["status"]')" = refused ] ||
            fail "$1: not refused"
        [ "$(j ans.json 'd["results"][0]["error"]')" = "$3" ] ||
            fail "$1: error $(j ans.json 'd["results"][0]["error"]'), want $3"
        [ "$(j ans.json 'd["receipt"]')" = None ] || fail "$1: a receipt"
    else
        [ "$(j ans.json 'd["error"]')" = "$3" ] ||
            fail "$1: error $(j ans.json 'd["error"]'), want $3"
    fi
    j ans.json 'd.get("message") or d["results"][0]["message"]' >msg
    [ -s msg ] || fail "$1: no message"
    snapshot >after
    cmp -s before after || fail "$1: something was stored"
    ok "$1: $CODE $3 ($(cut -c1-70 msg)), nothing stored"
}

start_hub
get /healthz | grep -qx ok || fail healthz
get /v1/hello >hello.json
[ "$(j hello.json 'd["hub"]')" = "$HUBPK" ] || fail "hello names another key"
ok "hello: protocol $(j hello.json 'd["protocol"]'), hub key"

# ---- an accepted batch and its receipt
$HF bundle b1-3 st1.log 1 3
push b1-3
[ "$CODE" = 200 ] || fail "batch 1..3: status $CODE"
[ "$(j ans.json 'd["accepted"]')" = 3 ] || fail "batch 1..3 not all accepted"
"$PY" "$CHECK" ans.json "$HUBPK" 3 >/dev/null || fail "receipt of 1..3"
[ "$(head_seq "$F1")" = 3 ] || fail "head after 1..3"
cmp -s <($HF bundle x st1.log 1 3 && $HF count x) \
    <($HF count "data/feeds/$F1.log") || fail "feed file frame count"
[ "$(sqlite3 data/replica.db 'SELECT count(*) FROM clients')" = 3 ] ||
    fail "the hub replica does not hold the 3 merged records"
ok "batch of 3 accepted and merged, receipt verified (signature, 3 inclusion proofs)"

# ---- the same batch again: duplicates, a receipt, nothing new
snapshot >before
push b1-3
[ "$CODE" = 200 ] && [ "$(j ans.json 'd["duplicate"]')" = 3 ] ||
    fail "duplicates: $CODE"
"$PY" "$CHECK" ans.json "$HUBPK" 3 >/dev/null || fail "receipt of duplicates"
snapshot >after
cmp -s before after || fail "duplicates stored something"
ok "same batch again: 3 duplicates with proofs, nothing stored"

# ---- bad input, one at a time
ID3=$($HF id st1.log 3)
ID2=$($HF id st1.log 2)
NOW=$(($(date +%s) * 1000))
$HF bundle b5x st5.log 1 1
expect_refused "expired certificate" b5x key_expired
$HF bundle b6x st6.log 1 1
expect_refused "certificate not valid yet" b6x key_not_yet_valid
$HF bundle b7x st7.log 1 2
push b7x
[ "$(j ans.json '[r["status"] for r in d["results"]]')" = \
  "['accepted', 'refused']" ] &&
    [ "$(j ans.json 'd["results"][1]["error"]')" = key_revoked ] ||
    fail "revoked from seq 2"
ok "revoked from seq 2: seq 1 accepted, seq 2 key_revoked"
$HF bundle b4 st1.log 4 4
$HF mutate badsig b4 sig
expect_refused "bad signature" badsig bad_signature
$HF bundle b3 st3.log 1 1
expect_refused "unknown key" b3 unknown_key
$HF forge chain 1 4 "$ID2" "$NOW"
expect_refused "broken chain" chain chain
$HF bundle b5 st1.log 5 5
expect_refused "gap" b5 gap
$HF mutate trail b4 trail
expect_refused "non-canonical frame" trail not_canonical
$HF forge future 1 4 "$ID3" $((NOW + 86400000))
expect_refused "timestamp a day ahead" future clock_skew
$HF mutate replay b4 signer 2
expect_refused "frame replayed under another feed" replay bad_signature
head -c 5000 /dev/urandom >garbage
expect_refused "garbage" garbage bad_body 400
$HF bundle b4-6 st1.log 4 6
head -c $(($(stat -c %s b4-6) - 10)) b4-6 >truncated
expect_refused "truncated body" truncated bad_body 400
head -c 1100000 /dev/zero >oversized
expect_refused "oversized body" oversized too_large 413
push b4 text/plain
[ "$CODE" = 415 ] || fail "text/plain push: $CODE"
ok "wrong media type: 415"
[ "$(sqlite3 data/hub.db 'SELECT count(*) FROM parked')" -ge 6 ] ||
    fail "refused frames not parked"
ok "refused frames parked with their reasons"

# ---- a mixed batch: good, bad, then a gap behind it; another feed goes on
$HF bundle b6 st1.log 6 6
$HF mutate bad5 b5 sig
$HF bundle b2 st2.log 1 3
$HF cat mixed b4 bad5 b6 b2
push mixed
[ "$CODE" = 200 ] || fail "mixed: $CODE"
[ "$(j ans.json '[r["status"] for r in d["results"]]')" = \
  "['accepted', 'refused', 'refused', 'accepted', 'accepted', 'accepted']" ] ||
    fail "mixed statuses"
[ "$(j ans.json '[r.get("error") for r in d["results"]][1:3]')" = \
  "['bad_signature', 'gap']" ] || fail "mixed errors"
"$PY" "$CHECK" ans.json "$HUBPK" 4 >/dev/null || fail "mixed receipt"
[ "$(head_seq "$F1")" = 4 ] && [ "$(head_seq "$F2")" = 3 ] ||
    fail "mixed heads"
ok "mixed batch: good frame kept, bad one and its follower refused, other feed accepted"

# ---- relay: county B's feed (its station's certificate) and that station
$HF bundle b4a st4.log 1 1
expect_refused "station of an unrelayed county" b4a unknown_key
$HF cat relay countyb.log st4.log
push relay
[ "$CODE" = 200 ] && [ "$(j ans.json 'd["accepted"]')" = 3 ] ||
    fail "relay: $CODE $(j ans.json 'd["accepted"]')"
[ "$(head_seq "$F4")" = 2 ] && [ "$(head_seq "$FB")" = 1 ] || fail "relay heads"
ok "relayed county feed certifies its station: 3 accepted"

# ---- a fork: same feed and seq, other bytes
ID4=$($HF id st1.log 4)
$HF forge fork 1 5 "$ID4" "$NOW" someone-else
$HF bundle b5 st1.log 5 5
push b5
[ "$CODE" = 200 ] || fail "seq 5: $CODE"
push fork
[ "$CODE" = 409 ] || fail "fork: status $CODE"
[ "$(j ans.json 'd["error"]')" = fork ] &&
    [ "$(j ans.json 'd["results"][0]["status"]')" = fork ] || fail "fork body"
get "/v1/feeds/$F1" >h.json
[ "$(j h.json 'd["frozen"]')" = True ] || fail "feed not frozen"
[ "$(sqlite3 data/hub.db 'SELECT count(*) FROM fork')" = 1 ] ||
    fail "fork evidence not kept"
$HF bundle b6 st1.log 6 6
push b6
[ "$(j ans.json 'd["results"][0]["error"]')" = frozen ] || fail "frozen feed"
$HF bundle b2b st2.log 4 4
push b2b
[ "$(j ans.json 'd["accepted"]')" = 1 ] || fail "other feed blocked by a fork"
ok "fork: 409, evidence kept, feed frozen, other feeds go on"

# ---- frames are not served without station authentication (PROTOCOL §4.6)
code=$(curl -sS --cacert tls.crt -o fr -w '%{http_code}' \
    "$URL/v1/feeds/$F2/frames?after=1")
[ "$code" = 501 ] || fail "frames endpoint: $code"
ok "GET frames: 501 until pulls are authenticated"

# ---- plain HTTP is refused
if curl -sS -m 5 "http://127.0.0.1:$P/v1/hello" >plain.out 2>&1 &&
    grep -q protocol plain.out; then
    fail "plain HTTP answered"
fi
ok "plain HTTP refused"

# ---- a stalled client is timed out (connection_timeout = 2)
"$PY" - "$P" <<'EOF' || fail "stalled client not timed out"
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile="tls.crt")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="127.0.0.1")
s.sendall(b"POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: "
          b"application/x-swsync-frames\r\nContent-Length: 1000\r\n\r\nabc")
s.settimeout(20)
t = time.time()
try:
    data = s.recv(100)
except (ssl.SSLError, ConnectionError):
    data = b""
elapsed = time.time() - t
sys.exit(0 if data == b"" and elapsed < 15 else 1)
EOF
ok "stalled client closed after the connection timeout"

# ---- SIGTERM: clean exit; everything there after a restart
snapshot >before
stop_hub
grep -q 'swsync-hub: stopped' hub.err || fail "no clean stop"
start_hub
snapshot >after
cmp -s before after || fail "state changed over a restart"
ok "SIGTERM: exit 0, state intact after restart"

# ---- recovery: a feed file longer than the store (a crash after the
# append, before the commit): re-verified and ingested at start; a frame
# that does not verify is cut off (it was never acknowledged).
stop_hub
$HF bundle b2c st2.log 5 6
$HF append "data/feeds/$F2.log" b2c
start_hub
[ "$(head_seq "$F2")" = 6 ] || fail "recovery: head $(head_seq "$F2")"
get /v1/checkpoint >c.json
[ "$(j c.json 'd["tree_size"]')" = "$(sqlite3 data/hub.db \
    'SELECT count(*) FROM node WHERE level=0')" ] || fail "checkpoint stale"
stop_hub
size=$(stat -c %s "data/feeds/$F2.log")
$HF bundle b2d st2.log 8 8
$HF append "data/feeds/$F2.log" b2d
start_hub
[ "$(head_seq "$F2")" = 6 ] || fail "recovery cut: head"
[ "$(stat -c %s "data/feeds/$F2.log")" = "$size" ] || fail "not cut back"
ok "recovery: extra frames ingested at start, an unverifiable one cut off"

# ---- SIGKILL during pushes: whatever was acknowledged survives
seq_now=6
for delay in 0.05 0.15 0.3 0.5; do
    $HF bundle kb st2.log $((seq_now + 1)) $((seq_now + 8))
    ( curl -sS --cacert tls.crt -o kill.json -w '%{http_code}' \
        -H 'Content-Type: application/x-swsync-frames' \
        --data-binary @kb "$URL/v1/push" >kill.code 2>/dev/null || true ) &
    cpid=$!
    sleep "$delay"
    kill_hub
    wait "$cpid" || true
    start_hub
    h=$(head_seq "$F2")
    if [ "$(cat kill.code 2>/dev/null)" = 200 ]; then
        [ "$h" -ge $((seq_now + 8)) ] || fail "acknowledged frames lost"
    fi
    [ "$h" -ge "$seq_now" ] || fail "head went back"
    [ "$($HF count "data/feeds/$F2.log")" = "$h" ] ||
        fail "feed file and head differ after SIGKILL"
    push kb
    [ "$CODE" = 200 ] || fail "re-push after SIGKILL: $CODE"
    "$PY" "$CHECK" ans.json "$HUBPK" 8 >/dev/null || fail "receipt"
    seq_now=$((seq_now + 8))
    [ "$(head_seq "$F2")" = $seq_now ] || fail "head after re-push"
done
ok "SIGKILL during pushes x4: acknowledged frames kept, re-push completes"

# ---- the memory budget: one upload holds it, another push gets 503
stop_hub
echo "memory_budget = 65536" >>hub.conf
start_hub
$HF bundle b2e st2.log 39 40
head -c 70000 /dev/zero >overbudget
push overbudget
[ "$CODE" = 413 ] || fail "body above the budget: $CODE"
"$PY" - "$P" <<'EOF' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile="tls.crt")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="127.0.0.1")
s.sendall(b"POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: "
          b"application/x-swsync-frames\r\nContent-Length: 65000\r\n\r\n")
open("holding", "w").close()
time.sleep(1.5)
s.close()
EOF
hold=$!
for _ in $(seq 50); do [ -e holding ] && break; sleep 0.1; done
sleep 0.2
curl -sS --cacert tls.crt -D hdr -o ans.json -w '%{http_code}' \
    -H 'Content-Type: application/x-swsync-frames' --data-binary @b2e \
    "$URL/v1/push" >code
[ "$(cat code)" = 503 ] && grep -qi '^retry-after: 5' hdr &&
    [ "$(j ans.json 'd["error"]')" = busy ] || fail "budget: $(cat code)"
wait "$hold"
for _ in $(seq 50); do
    push b2e
    [ "$CODE" = 200 ] && break
    sleep 0.2
done
[ "$CODE" = 200 ] && [ "$(j ans.json 'd["accepted"]')" = 2 ] ||
    fail "push after the budget freed: $CODE"
ok "memory budget: 503 with Retry-After while held, 413 above it, 200 after"

stop_hub
echo "all hub tests passed"
