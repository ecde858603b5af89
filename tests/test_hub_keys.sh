#!/usr/bin/env bash
# The hub's key checks (PROTOCOL §4.2 step 5, spec/SECURITY.md §5) and its
# consistency endpoint (PROTOCOL §4.7) over real HTTPS on 127.0.0.1. Keys
# made with swsync-keys (root, county hub, certificates, revocations);
# station feeds sealed, forged and rotated by swsync_test_hubframes.
# Each refusal: HTTP status, the frame's error code, and nothing stored
# (heads, feed files and checkpoint unchanged). A rotation handled right:
# the successor's frames accepted after the handover, in the same batch;
# the old key's frames after it refused; a relayed county feed's
# certificate and revocation govern its station's frames in the same
# batch. The registry rebuilt at restart gives the same verdicts.
# Consistency proofs for every pair of tree sizes verified by format/'s
# verifier against roots computed from the hub's ledger; bad parameters
# refused with 400 and a code.
# usage: test_hub_keys.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
K=$B/tools/swsync-keys
HF=$B/tests/swsync_test_hubframes
HUB=$B/agent/hub/swsync-hub
PY=python3
T=$(mktemp -d "${TMPDIR:-/tmp}/test_hub_keys.XXXXXX")
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
ms() { echo $(($(date -u -d "$1" +%s) * 1000)); }

# ---- keys: root -> county (this hub) -> stations (test keys by number)
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null
$K new --out hub.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject hub.key \
    --role county --unit 4401 >/dev/null
# County B relays its feed through this hub: certifies station 14, then
# revokes it from seq 2 (both frames reach the hub in one batch).
$K new --out countyb.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject countyb.key \
    --role county --unit 4402 >/dev/null
$K certify --issuer countyb.key --issuer-log countyb.log --create \
    --certs root.log --subject "$($HF pub 14)" --role station \
    --unit 4402-01 >/dev/null
$K revoke --issuer countyb.key --issuer-log countyb.log --certs root.log \
    --subject "$($HF pub 14)" --reason retired --from-seq 2 >/dev/null
mkdir -p data
cert() { # KEYNO [certify options]
    local n=$1
    shift
    $K certify --issuer hub.key --issuer-log data/hub.log --certs root.log \
        --subject "$($HF pub "$n")" --role station --unit "4401-$n" \
        $( [ -f data/hub.log ] || echo --create ) "$@" >/dev/null 2>&1 ||
        fail "certify $n"
}
revoke() { # KEYNO REASON (--from-seq N | --from-time ISO)
    local n=$1 why=$2
    shift 2
    $K revoke --issuer hub.key --issuer-log data/hub.log --certs root.log \
        --subject "$($HF pub "$n")" --reason "$why" "$@" >/dev/null ||
        fail "revoke $n"
}
cert 1                                            # a good station
cert 5 --from 2020-01-01 --until 2020-02-01       # expired
cert 6 --from 2030-01-01 --until 2030-02-01       # not valid yet
cert 7                                            # revoked from seq 2
revoke 7 compromised --from-seq 2
cert 8                                            # rotates to 9
cert 10 --from 2025-01-01 --until 2027-12-31      # retired from a time
revoke 10 retired --from-time 2026-06-01
cert 11 --from 2025-01-01 --until 2027-12-31      # compromised from a time
revoke 11 compromised --from-time 2026-06-01
cert 12                                           # rotates to 13, revoked later
# 3 is certified by nobody; 9 and 13 only inherit by rotation.

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout tls.key -out tls.crt -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
chmod 600 tls.key
cat >hub.conf <<EOF
listen = 127.0.0.1
port = 0
tls_cert = tls.crt
tls_key = tls.key
hub_key = hub.key
data = data
root_key = $($K pub root.key)
trust_log = root.log
unit = 4401
connection_timeout = 5
EOF

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
    URL=https://127.0.0.1:$(cat port)
}
stop_hub() {
    kill -TERM "$HUBPID"
    local rc=0
    wait "$HUBPID" || rc=$?
    HUBPID=
    [ "$rc" = 0 ] || fail "hub exited $rc after SIGTERM"
}
push() { # FILE: CODE gets the status, ans.json the body
    CODE=$(curl -sS --cacert tls.crt -o ans.json -w '%{http_code}' \
        -H "Content-Type: application/x-swsync-frames" \
        --data-binary @"$1" "$URL/v1/push") || fail "curl push $1"
}
get() { curl -sS --cacert tls.crt "$URL$1"; }
j() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
FEEDS=
for n in 1 3 5 6 7 8 9 10 11 12 13 14; do FEEDS="$FEEDS $($HF pub $n)"; done
snapshot() { # every station's head, the checkpoint (one connection), files
    local urls=
    for f in $FEEDS; do urls="$urls $URL/v1/feeds/$f"; done
    # shellcheck disable=SC2086
    curl -sS --cacert tls.crt $urls "$URL/v1/checkpoint"
    (cd data/feeds && sha256sum -- * 2>/dev/null) || true
}
# refused NAME FILE CODE: the one frame of FILE refused with CODE, 200,
# no receipt, nothing stored.
refused() {
    snapshot >before
    push "$2"
    [ "$CODE" = 200 ] || fail "$1: status $CODE"
    local got
    got=$(j ans.json '[(r["status"], r.get("error")) for r in d["results"]], d["receipt"]')
    [ "$got" = "([('refused', '$3')], None)" ] || fail "$1: $got, want $3"
    j ans.json 'd["results"][0]["message"]' >msg
    [ -s msg ] || fail "$1: no message"
    snapshot >after
    cmp -s before after || fail "$1: something was stored"
    ok "$1: 200, $3 ($(cut -c1-90 msg)), nothing stored"
}
# statuses FILE WANT: the results' statuses and errors, as a python list
statuses() {
    push "$1"
    [ "$CODE" = 200 ] || fail "$1: status $CODE"
    local got
    got=$(j ans.json '[r["status"] + ("/" + r["error"] if "error" in r else "") for r in d["results"]]')
    [ "$got" = "$2" ] || fail "$1: $got, want $2"
}
head_seq() { get "/v1/feeds/$($HF pub "$1")" >h.json; j h.json 'd["seq"]'; }

NOW=$(($(date +%s%3N) + 1000)) # after every certificate's valid_from
$HF seal st1.db st1.log 1 2 >/dev/null
for n in 3 5 6 7 8 9 12 13 14; do $HF seal st$n.db st$n.log $n 2 >/dev/null; done
start_hub

# ---- refusals, each with its code and nothing stored
$HF bundle b1 st1.log 1 2
statuses b1 "['accepted', 'accepted']"
ok "a certified station: 2 accepted"
$HF bundle b3 st3.log 1 1
refused "unknown key" b3 unknown_key
$HF bundle b6 st6.log 1 1
refused "certificate not valid yet" b6 key_not_yet_valid
$HF bundle b5 st5.log 1 1
refused "certificate expired" b5 key_expired
$HF bundle b7a st7.log 1 1
statuses b7a "['accepted']"
$HF bundle b7b st7.log 2 2
refused "revoked from seq 2 (seq 1 accepted)" b7b key_revoked
$HF forge b10a 10 1 0 "$(ms 2026-03-01)"
statuses b10a "['accepted']"
$HF forge b10b 10 2 "$($HF id b10a 1)" "$(ms 2026-07-01)"
refused "revoked (retired) from a time, frame after it" b10b key_revoked
$HF forge b11 11 1 0 "$(ms 2026-03-01)"
refused "revoked (compromised) from a time, back-dated frame seen after it" \
    b11 key_revoked
grep -q 'reached this hub after' msg || fail "seen-time message"

# County B's certificate and revocation, then its station, in one batch.
$HF cat b14 countyb.log st14.log
statuses b14 "['accepted', 'accepted', 'accepted', 'refused/key_revoked']"
ok "county feed relayed with a certificate and a revocation: the station's seq 1 accepted, seq 2 key_revoked in the same batch"

# ---- rotation: 8 hands over to 9; in one batch the rotation certifies 9
$HF bundle b9a st9.log 1 1
refused "successor before its rotation is known" b9a unknown_key
$HF bundle b8 st8.log 1 2
$HF rotate b8r st8.log 8 9 "$NOW"
$HF cat b89 b8 b8r b9a
statuses b89 "['accepted', 'accepted', 'accepted', 'accepted']"
ok "rotation 8 -> 9 and 9's seq 1 in the same batch: all accepted"
ROT8=$($HF id b8r 3)
$HF forge b8x 8 4 "$ROT8" "$NOW"
refused "old key signs after its rotation" b8x key_rotated
$HF bundle b9b st9.log 2 2
statuses b9b "['accepted']"
[ "$(head_seq 9)" = 2 ] && [ "$(head_seq 8)" = 3 ] || fail "heads 8 and 9"
ok "the successor's frames accepted after the handover"
# 12 rotates to 13 (accepted now; 12 is revoked below, while stopped)
$HF bundle b12 st12.log 1 1
$HF rotate b12r b12 12 13 "$NOW"
$HF bundle b13a st13.log 1 1
$HF cat b1213 b12 b12r b13a
statuses b1213 "['accepted', 'accepted', 'accepted']"
ok "rotation 12 -> 13 accepted"

# ---- the registry rebuilt at restart answers the same
$HF cat refusals b3 b6 b5 b7b b10b b11 b8x
push refusals
j ans.json '[(r["status"], r.get("error")) for r in d["results"]]' >verdicts.1
stop_hub
# The theft is found: 12 revoked from seq 2, its rotation; 13 inherits nothing.
revoke 12 compromised --from-seq 2
start_hub
push refusals
j ans.json '[(r["status"], r.get("error")) for r in d["results"]]' >verdicts.2
cmp -s verdicts.1 verdicts.2 || fail "verdicts differ after restart: $(cat verdicts.1) / $(cat verdicts.2)"
grep -q accepted verdicts.2 && fail "a refused frame accepted after restart"
ok "after restart: the same 7 refusals ($(tr -d '\n' <verdicts.2 | cut -c1-60)...)"
$HF seal st9.db st9.log 9 1 >/dev/null
$HF bundle b9c st9.log 3 3
statuses b9c "['accepted']"
ok "after restart: the successor 9 still accepted"
$HF bundle b13b st13.log 2 2
refused "successor of a key revoked at its rotation" b13b key_revoked
grep -q 'rotation that is not valid' msg || fail "rotation message"

# ---- consistency proofs (PROTOCOL §4.7)
$HF seal st1.db st1.log 1 40 >/dev/null
for from in 3 10 17 24 31 38; do
    $HF bundle bb st1.log $from $((from + 6))
    push bb
    [ "$CODE" = 200 ] || fail "push st1 from $from: $CODE"
done
get /v1/checkpoint >cp.json
SIZE=$(j cp.json 'd["tree_size"]')
[ "$SIZE" -ge 50 ] || fail "tree size $SIZE"
"$HUB" ledger --config hub.conf --out ledger.log >/dev/null ||
    fail "ledger export"
"$PY" - "$(cat port)" "$SIZE" >proofs 2>rate <<'EOF'
import http.client, json, ssl, sys, time
port, size = int(sys.argv[1]), int(sys.argv[2])
t0 = time.monotonic()
ctx = ssl.create_default_context(cafile="tls.crt")
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
for n in range(1, size + 1):
    for m in range(1, n + 1):
        c.request("GET", "/v1/consistency?from=%d&to=%d" % (m, n))
        r = c.getresponse()
        d = json.loads(r.read())
        assert r.status == 200, (m, n, r.status, d)
        assert (d["from"], d["to"], d["tree_size"]) == (m, n, size), d
        assert len(d["path"]) <= 64 and (m < n or d["path"] == [])
        print(m, n, *d["path"])
sys.stderr.write("%.0f requests/s" % (size * (size + 1) / 2 /
                                      (time.monotonic() - t0)))
EOF
PAIRS=$(wc -l <proofs)
$HF consist ledger.log proofs "$SIZE" "$(j cp.json 'd["root"]')" >cons.out ||
    fail "consistency proofs: $(cat cons.out)"
grep -q "^$PAIRS of $PAIRS proofs verified" cons.out || fail "$(cat cons.out)"
ok "consistency: $PAIRS proofs (every 1 <= M <= N <= $SIZE) verified by format/ against the ledger's roots and the checkpoint; $(cat rate) on one connection"
# The verifier can fail: one hash changed.
awk 'NR == 100 { $3 = "00" substr($3, 3) } { print }' proofs >proofs.bad
if $HF consist ledger.log proofs.bad >/dev/null 2>&1; then
    fail "a damaged proof verified"
fi
ok "a damaged proof does not verify"

# Bad parameters: each answered 400 with its code and a message (one
# connection; curl would take seconds a request on a loaded machine).
"$PY" - "$(cat port)" "$SIZE" <<'EOF' || fail "bad parameters"
import http.client, json, ssl, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl.create_default_context(cafile="tls.crt")
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
bad = ["", "?from=1", "?to=3", "?from=&to=3", "?from=abc&to=3",
       "?from=01&to=3", "?from=%2B1&to=3", "?from=-1&to=3", "?from=1&to=3x",
       "?from=1.0&to=3", "?from=1&to=3&x=1", "?from=1&from=2&to=3",
       "?from=1&to", "?from=99999999999999999999999&to=3",
       "?from=1&to=18446744073709551616"]
out = ["?from=0&to=3", "?from=4&to=3", "?from=1&to=%d" % (size + 1),
       "?from=1&to=18446744073709551615"]
for q, want in [(q, "bad_request") for q in bad] + \
               [(q, "bad_tree_size") for q in out]:
    c.request("GET", "/v1/consistency" + q)
    r = c.getresponse()
    d = json.loads(r.read())
    if r.status != 400 or d.get("error") != want or not d.get("message"):
        sys.exit("consistency%s: %d %s, want 400 %s" % (q, r.status, d, want))
EOF
code=$(curl -sS --cacert tls.crt -o ans.json -w '%{http_code}' -X POST \
    "$URL/v1/consistency?from=1&to=2")
[ "$code" = 405 ] || fail "POST consistency: $code"
ok "bad parameters: 15 x 400 bad_request, 4 x 400 bad_tree_size, POST 405"

stop_hub
ok "hub stopped cleanly"
