#!/usr/bin/env bash
# Convergence across hubs (issue 4; spec/MERGE.md §5.4, §10): four station
# feeds that edit the same records concurrently (tests/support/convfeeds.c:
# three stations edit one column having seen only its birth, a delete races
# an edit, two edits tie on the HLC) are pushed to several independent
# swsync-hub processes over HTTPS on 127.0.0.1, each in a different order:
# whole feeds, frame by frame with the feeds interleaved, mixed batches of
# several feeds, random batches (seed printed) with every batch possibly
# sent again and ranges overlapping (duplicates), the push client with the
# logs in another order, and the push client through a fault proxy that
# cuts connections after N bytes (the client sends again). Every hub must
# end with the same replica content hash (swsync-hub content-hash), the
# same _sw_conflicts rows (sqlite3, canonical order) and the expected
# winners and 6 conflicts.
# usage: test_hub_converge.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
S=$(cd "$2" && pwd)
K=$B/tools/swsync-keys
HF=$B/tests/swsync_test_hubframes
CF=$B/tests/swsync_test_convfeeds
PUSH=$B/tests/swsync_test_push
PROXY=$B/tests/swsync_test_faultproxy
HUB=$B/agent/hub/swsync-hub
for x in "$K" "$HF" "$CF" "$PUSH" "$PROXY" "$HUB"; do
    [ -x "$x" ] || { echo "FAIL: $x not built" >&2; exit 1; }
done
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 missing" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/test_hub_converge.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for e in "$T"/*.err; do
        [ -s "$e" ] && { echo "-- $e" >&2; tail -5 "$e" >&2; }
    done
    exit 1
}
ok() { echo "ok - $* [${SECONDS}s]"; }
cd "$T"

# ---- keys: root -> county (the key of every hub here) -> stations 1..4.
# The hubs are independent processes with separate data folders and the
# same trust configuration: each starts from a copy of the county's feed.
# The stations' certificates are valid from 2020 (the frames' times are a
# few minutes old).
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null
$K new --out county.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject county.key \
    --role county --unit 4401 >/dev/null
mkdir -p seed
for n in 1 2 3 4; do
    $K certify --issuer county.key --issuer-log seed/hub.log --certs root.log \
        --subject "$($HF pub $n)" --role station --unit "4401-0$n" \
        --from 2020-01-01 --until 2030-01-01 $([ $n = 1 ] && echo --create) \
        >/dev/null 2>>certify.err ||
        fail "certify station $n"  # (a warning: they start before the county's)
done
HUBPK=$($K pub county.key)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout tls.key -out tls.crt -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null || fail "openssl"
chmod 600 tls.key

# ---- the feeds: HLCs from two minutes ago (inside the hubs' clock bound)
$CF . $(( $(date +%s) * 1000 - 120000 )) >feeds.txt || fail "convfeeds"
cat feeds.txt
declare -A LEN
while read -r log _ n; do LEN[$log]=$n; done <feeds.txt
TOTAL=$(awk '{s += $3} END {print s}' feeds.txt)

# ---- hubs
# start_hub NAME: a hub with data folder NAME.d; sets PORT_<NAME>.
start_hub() {
    local name=$1
    mkdir -p "$name.d"
    cp seed/hub.log "$name.d/hub.log"
    cat >"$name.conf" <<EOF
listen = 127.0.0.1
port = 0
tls_cert = tls.crt
tls_key = tls.key
hub_key = county.key
data = $name.d
root_key = $($K pub root.key)
trust_log = root.log
unit = 4401
connection_timeout = 5
EOF
    rm -f "$name.port"
    "$HUB" --config "$name.conf" --port-file "$name.port" 2>>"$name.err" &
    local pid=$!
    PIDS+=("$pid")
    eval "PID_$name=$pid"
    for _ in $(seq 100); do
        [ -s "$name.port" ] && break
        kill -0 "$pid" 2>/dev/null || fail "hub $name exited at start"
        sleep 0.1
    done
    [ -s "$name.port" ] || fail "hub $name did not start within 10 s"
    eval "PORT_$name=$(cat "$name.port")"
}
# stop_hub NAME: SIGTERM, exit 0 within 20 s.
stop_hub() {
    local pid
    eval "pid=\$PID_$1"
    kill -TERM "$pid"
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "hub $1 still running 20 s after SIGTERM"
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || fail "hub $1 exited $rc after SIGTERM"
}

# push_batch HUB SPEC...: one push of a bundle made of the ranges SPEC
# (FEEDNO:FROM-TO, in that order); every frame must come back accepted or
# duplicate. Adds the accepted count to ACC_<HUB>.
push_batch() {
    local hub=$1 port parts=() i=0 sp
    shift
    eval "port=\$PORT_$hub"
    for sp in "$@"; do
        local f=${sp%%:*} r=${sp#*:}
        $HF bundle "part$i.b" "conv$f.log" "${r%-*}" "${r#*-}" ||
            fail "bundle $sp"
        parts+=("part$i.b")
        i=$((i + 1))
    done
    $HF cat batch.b "${parts[@]}" || fail "cat $*"
    local code
    code=$(curl -sS --cacert tls.crt -o ans.json -w '%{http_code}' -H 'Expect:' \
        -H "Content-Type: application/x-swsync-frames" \
        --data-binary @batch.b "https://127.0.0.1:$port/v1/push") ||
        fail "curl push to $hub"
    [ "$code" = 200 ] || { head -c 1000 ans.json >&2; fail "$hub: $* -> $code"; }
    # The hub's answer is compact JSON (PROTOCOL §4.3): one "status" per
    # frame (grep, not python: its start costs seconds on a loaded machine).
    local acc n all
    all=$(grep -o '"status":"[a-z]*"' ans.json | wc -l || true)
    acc=$(grep -o '"status":"accepted"' ans.json | wc -l || true)
    n=$(grep -o '"status":"duplicate"' ans.json | wc -l || true)
    [ "$all" = "$($HF count batch.b)" ] && [ $((acc + n)) = "$all" ] ||
        { head -c 1000 ans.json >&2; echo >&2; fail "$hub: batch $*: not all accepted or duplicate"; }
    eval "ACC_$hub=\$(( \${ACC_$hub:-0} + acc ))"
}
# push_plan HUB FILE: push_batch for each line of FILE; a line starting
# with '+' is sent twice.
push_plan() {
    local line again
    while read -r line; do
        again=0
        case $line in +*) again=1; line=${line#+} ;; esac
        # shellcheck disable=SC2086
        push_batch "$1" $line
        if [ $again = 1 ]; then push_batch "$1" $line; fi
    done <"$2"
}

# accepted_ok HUB: every frame accepted exactly once.
accepted_ok() {
    local a
    eval "a=\${ACC_$1:-0}"
    [ "$a" = "$TOTAL" ] || fail "$1: $a frames accepted, want $TOTAL"
}

# ---- hub A: whole feeds in order 1 2 3 4, every batch twice
start_hub A
printf '+1:1-3\n+2:1-3\n+3:1-4\n+4:1-3\n' >planA
push_plan A planA
accepted_ok A
ok "hub A: feeds 1 2 3 4 whole, every batch twice"

# ---- hub B: frame by frame, feeds interleaved in reverse, overlapping
# re-sends (a range that starts before the hub's head: duplicates then new)
start_hub B
cat >planB <<'EOF'
4:1-1
3:1-1
2:1-1
3:1-2
4:1-2
2:1-2
1:1-1
3:3-3
2:2-3
+1:1-2
3:1-4
4:3-3
1:1-3
+2:1-3
EOF
push_plan B planB
accepted_ok B
ok "hub B: frame by frame, interleaved, overlapping re-sends"

# ---- hub C: mixed batches of several feeds, the delete before the edit
# it races, station 3's tie before station 2's
start_hub C
cat >planC <<'EOF'
+3:1-3 2:1-1
4:1-3 2:1-2 1:1-1
+1:1-3 2:1-3 3:1-4
3:1-4 4:1-3 2:1-3 1:1-3
EOF
push_plan C planC
accepted_ok C
ok "hub C: mixed batches of several feeds"

# ---- hub D: a random plan (reproduce with CONVERGE_SEED)
SEED=${CONVERGE_SEED:-$RANDOM}
echo "random plan seed $SEED"
python3 - "$SEED" feeds.txt >planD <<'PYEOF'
import random, sys
rnd = random.Random(int(sys.argv[1]))
lens = {}
for line in open(sys.argv[2]):
    log, _, n = line.split()
    lens[int(log[4:-4])] = int(n)
head = {f: 0 for f in lens}
for _ in range(1000):
    left = [f for f in lens if head[f] < lens[f]]
    if not left:
        break
    specs = []
    for f in rnd.sample(left, rnd.randint(1, len(left))):
        lo = rnd.randint(1, head[f] + 1)   # <= head: duplicates first
        hi = rnd.randint(head[f] + 1, min(lens[f], head[f] + 2))
        specs.append("%d:%d-%d" % (f, lo, hi))
        head[f] = hi
    print(("+" if rnd.random() < 0.4 else "") + " ".join(specs))
PYEOF
cat planD
start_hub D
push_plan D planD
accepted_ok D
ok "hub D: random plan, $(wc -l <planD) batches"

# ---- hub E: the push client, logs in another order, one frame a batch,
# then again (nothing new)
start_hub E
"$PUSH" --url "https://127.0.0.1:$PORT_E" --ca tls.crt --state E.state \
    --hub-key "$HUBPK" --max-frames 1 conv3.log conv1.log conv4.log \
    conv2.log >push.out 2>&1 || { cat push.out; fail "push client to E"; }
"$PUSH" --url "https://127.0.0.1:$PORT_E" --ca tls.crt --state E.state \
    --hub-key "$HUBPK" conv2.log conv4.log conv1.log conv3.log \
    >push.out 2>&1 || { cat push.out; fail "second push to E"; }
ok "hub E: push client, order 3 1 4 2"

# ---- hub F: the push client through a proxy cutting connections after N
# bytes (both directions); the client sends again until acknowledged
start_hub F
pass=0
cut=0
for spec in "--cut-down 900" "--cut-up 700" "--cut-down 3000" \
    "--cut-up 2500" "--cut-down 6000"; do
    pass=$((pass + 1))
    rm -f "proxy$pass.port"
    # shellcheck disable=SC2086
    "$PROXY" --target "$PORT_F" --port-file "proxy$pass.port" --faulty 2 \
        $spec 2>>proxy.err &
    ppid=$!
    PIDS+=("$ppid")
    for _ in $(seq 100); do [ -s "proxy$pass.port" ] && break; sleep 0.1; done
    [ -s "proxy$pass.port" ] || fail "proxy did not start"
    logs=(conv4.log conv2.log conv3.log conv1.log)
    [ $((pass % 2)) = 0 ] && logs=(conv1.log conv3.log conv2.log conv4.log)
    r=none
    tries=0
    for _ in 1 2 3 4 5 6; do
        tries=$((tries + 1))
        if "$PUSH" --url "https://127.0.0.1:$(cat "proxy$pass.port")" \
            --ca tls.crt --state F.state --hub-key "$HUBPK" --max-frames 2 \
            --connect-timeout 5 --total-timeout 20 "${logs[@]}" \
            >push.out 2>&1; then
            r=SWLOG_OK
            break
        fi
        r=$(sed -n 's/^result: //p' push.out)
        case $r in CLIENT_ENET | CLIENT_ETLS | CLIENT_EHTTP | CLIENT_EPROTO) ;;
        *) cat push.out; fail "through the proxy ($spec): $r" ;; esac
    done
    [ "$r" = SWLOG_OK ] || { cat push.out; fail "proxy $spec: never acknowledged"; }
    echo "proxy $spec: acknowledged after $tries runs of the client"
    [ $tries -gt 1 ] && cut=$((cut + 1))
    kill "$ppid" 2>/dev/null || true
    wait "$ppid" 2>/dev/null || true
    # The next pass starts from a fresh client state: everything again.
    rm -f F.state*
done
# The cuts must really have happened: most passes needed the client again.
[ $cut -ge 3 ] || fail "only $cut of 5 passes saw a cut connection"
ok "hub F: through cut connections, $cut of 5 passes cut"

# ---- compare
HUBS="A B C D E F"
live=$("$HUB" content-hash --config A.conf) || fail "content-hash of running hub A"
for h in $HUBS; do stop_hub "$h"; done
ref=
for h in $HUBS; do
    [ "$($HF count "$h.d/feeds/$($HF pub 3).log")" = 4 ] ||
        fail "$h does not hold station 3's 4 frames"
    hash=$("$HUB" content-hash --config "$h.conf") || fail "content-hash $h"
    echo "$hash" | grep -Eq '^[0-9a-f]{64}$' || fail "$h: bad hash '$hash'"
    sqlite3 "$h.d/replica.db" "SELECT tbl, row_id, col, win_kind, win_hlc,
        hex(win_signer), hex(win_frame), quote(win_value), lose_hlc,
        hex(lose_signer), hex(lose_frame), quote(lose_value)
        FROM _sw_conflicts ORDER BY tbl, row_id, col, win_hlc,
        hex(win_signer), hex(win_frame), lose_hlc, hex(lose_signer),
        hex(lose_frame)" >"$h.conflicts" || fail "sqlite3 $h"
    echo "hub $h: content hash $hash, $(wc -l <"$h.conflicts") conflicts"
    if [ -z "$ref" ]; then
        ref=$hash
    else
        [ "$hash" = "$ref" ] || fail "hub $h's content hash differs from A's"
        cmp -s A.conflicts "$h.conflicts" ||
            { diff A.conflicts "$h.conflicts" >&2; fail "hub $h's conflicts differ from A's"; }
    fi
done
[ "$live" = "$ref" ] || fail "content-hash differs while hub A ran"
ok "content hash and conflicts identical at $HUBS"

# ---- the outcome itself (MERGE §3, §5), read at hub A
q() { sqlite3 A.d/replica.db "$1"; }
R=0190a1b2-0000-7000-8000-00000000000
[ "$(q "SELECT name FROM clients WHERE id='${R}1'")" = "edit by station 3" ] ||
    fail "R1.name: the greatest HLC does not win"
[ "$(q "SELECT gender FROM clients WHERE id='${R}1'")" = male ] ||
    fail "R1.gender: station 2's edit lost"
[ "$(q "SELECT count(*) FROM clients WHERE id='${R}2'")" = 0 ] ||
    fail "R2: the delete did not win"
[ "$(q "SELECT name FROM clients WHERE id='${R}4'")" = "tie by station 3" ] ||
    fail "R4.name: the tie is not broken by the value"
[ "$(q "SELECT village_code FROM clients WHERE id='${R}3'")" = 440983102033 ] ||
    fail "R3.village_code"
[ "$(q "SELECT name FROM clients WHERE id='${R}5'")" = "seen and edited by station 4" ] ||
    fail "R5.name"
[ "$(q "SELECT count(*) FROM clients")" = 5 ] || fail "not 5 live clients"
[ "$(wc -l <A.conflicts)" = 6 ] || { cat A.conflicts; fail "not 6 conflicts"; }
# R1.name: 3 pairs among stations 1, 2, 3; R2: the delete over the edit
# (win_kind 2); R3.village_code 1; R4.name (the tie) 1.
[ "$(q "SELECT count(*) FROM _sw_conflicts WHERE row_id='${R}1' AND col='name'")" = 3 ] ||
    fail "R1.name: not 3 conflicts"
[ "$(q "SELECT count(*) FROM _sw_conflicts WHERE row_id='${R}2' AND win_kind=2 AND col='name'")" = 1 ] ||
    fail "R2: no delete-over-edit conflict"
[ "$(q "SELECT count(*) FROM _sw_conflicts WHERE row_id='${R}4' AND win_hlc=lose_hlc")" = 1 ] ||
    fail "R4: no tie conflict"
[ "$(q "SELECT count(*) FROM _sw_conflicts WHERE row_id='${R}3'")" = 1 ] ||
    fail "R3: not 1 conflict"
ok "winners and the 6 expected conflicts"

# ---- the comparison can fail: a hub missing one change-set (station 3's
# last, the R3.village_code edit) has another hash and 5 conflicts
start_hub G
push_batch G 1:1-3 2:1-3 3:1-3 4:1-3
g=$("$HUB" content-hash --config G.conf) || fail "content-hash G"
[ "$g" != "$ref" ] || fail "a hub missing a change-set has the same hash"
[ "$(sqlite3 G.d/replica.db "SELECT count(*) FROM _sw_conflicts")" = 5 ] ||
    fail "hub G: not 5 conflicts"
stop_hub G
ok "a hub missing one change-set differs"

# ---- content-hash's command line
rc=0; "$HUB" content-hash >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || fail "content-hash without --config: exit $rc, want 2"
sed 's/^data = .*/data = nowhere.d/' A.conf >nowhere.conf
rc=0; "$HUB" content-hash --config nowhere.conf >/dev/null 2>ch.err || rc=$?
[ $rc = 1 ] && grep -q "replica.db" ch.err ||
    fail "content-hash of a hub that never ran: exit $rc, $(cat ch.err)"
[ ! -e nowhere.d ] || fail "content-hash created a data folder"
ok "content-hash: bad command line 2, missing replica 1"
echo "convergence across hubs: all tests passed"
