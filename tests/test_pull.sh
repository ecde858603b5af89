#!/bin/bash
# County-authored changes, transfers and authenticated pulls (issue 5),
# real processes over HTTPS on 127.0.0.1: a county hub and two stations.
# - `swsync-hub change` of a station's case reaches that station only;
#   `swsync-hub add` of a county-wide training reaches both.
# - `swsync-hub transfer` of a case from station 1 to station 2: station 2
#   receives its full state (case, child rows, client, categories), station
#   1 the owner change once and nothing after it.
# - Scope attacks with signed requests made by swsync_test_pulltool: a
#   request claiming station 2's key signed by station 1 (401), station 1's
#   own request replayed within the window and after it (401), a time far
#   off (401), a key not certified by the hub (403), no credentials (401).
# - Cursor crash-safety: station 1 pulls a large backlog (16 frames per
#   answer) and is SIGKILLed at random points, then pulls again; its
#   replica's content hash equals that of a copy that pulled cleanly.
# - The hub's ledger still verifies with the authored frames as leaves.
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/support/county_env.sh"
nframes() { # frames in a FORMAT §3 file
    "$PY" - "$1" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
pos, n = 32, 0
while pos + 8 <= len(d):
    pos += 12 + struct.unpack(">I", d[pos + 4:pos + 8])[0]
    n += 1
print(n)
PYEOF
}
pulled() { # frames pulled according to sync.out
    sed -n 's/^pulled \([0-9]*\) frame.*/\1/p' sync.out
}

echo "== stations push to the county"
hub_start
hub_pin_port st1 st2
for n in 1 2; do
    sync_st "st$n"
    grep -q "acknowledges" sync.out || { cat sync.out; fail "st$n push"; }
    grep -q "^pulled 0 frames" sync.out || { cat sync.out; fail "st$n pull"; }
done
hub_stop

echo "== county-authored: a change for station 1, a training for all"
# While the hub runs, the data folder is locked.
hub_start
"$HUB" change --config county.conf cases "$CASE" risk_level=high \
    >/dev/null 2>lock.err && fail "change while the hub runs succeeded"
grep -q "in use" lock.err || { cat lock.err; fail "no lock message"; }
hub_stop
hub_cmd change cases "$CASE" risk_level=high || fail "hub change"
grep -q "for 440983102000-01" hubcmd.out || { cat hubcmd.out; fail "addressee"; }
hub_cmd change cases "$CASE" risk_level=bogus && fail "invalid value accepted"
grep -q "enum\|risk_level" hubcmd.err || { cat hubcmd.err; fail "validation"; }
hub_cmd add trainings owner_unit_id="$UC" title=县级督导培训 audience=mixed \
    kind=supervision mode=in_person start_date=2025-01-10 \
    end_date=2025-01-11 planned_minutes=480 counts_for_ce=1 ||
    fail "hub add training"
TR=$(head -1 hubcmd.out)
grep -q "every station" hubcmd.out || { cat hubcmd.out; fail "county-wide"; }
hub_start
sync_st st1
[ "$(pulled)" = 2 ] || { cat sync.out; fail "st1 should pull 2 frames"; }
[ "$(val st1 "SELECT risk_level FROM cases WHERE id='$CASE'")" = high ] ||
    fail "st1 did not merge the county's change"
[ "$(val st1 "SELECT count(*) FROM trainings WHERE id='$TR'")" = 1 ] ||
    fail "st1 did not receive the county-wide training"
sync_st st2
[ "$(pulled)" = 1 ] || { cat sync.out; fail "st2 should pull 1 frame"; }
[ "$(val st2 "SELECT count(*) FROM trainings WHERE id='$TR'")" = 1 ] ||
    fail "st2 did not receive the county-wide training"
[ "$(val st2 "SELECT count(*) FROM cases")" = 0 ] ||
    fail "st2 received station 1's case"
# A second sync pulls nothing more; status shows the cursor.
sync_st st1
[ "$(pulled)" = 0 ] || { cat sync.out; fail "st1 pulled again"; }
"$A" --dir st1 status >status.out 2>&1
grep -q "pull: hub feed merged up to seq" status.out ||
    { cat status.out; fail "status shows no pull cursor"; }
# The station's clock moved past what it merged.
HLC=$(val st1 "SELECT last FROM _sw_state")
MAXV=$(val st1 "SELECT max(risk_level) FROM _sw_v_cases")
[ "$HLC" -ge "$MAXV" ] || fail "station clock $HLC behind merged $MAXV"

echo "== scope attacks on /v1/pull"
URL=https://127.0.0.1:$HUB_PORT
# try NAME EXPECT KEYFILE AFTER OFFSET NONCE [CLAIM] [HEADERFILE]
try() {
    local name=$1 want=$2 kf=$3 after=$4 off=$5 nonce=$6 claim=${7:-}
    local hf=${8:-}
    if [ -z "$hf" ]; then
        hf=hdr.$name
        "$PT" headers "$kf" "$CK" "$after" 16 "$off" "$nonce" $claim \
            >"$hf" || fail "$name: pulltool"
    fi
    local args=() l
    while read -r l; do args+=(-H "$l"); done <"$hf"
    local code
    code=$(curl -s -o "body.$name" -w '%{http_code}' --cacert ca.pem \
        "${args[@]}" "$URL/v1/pull?after=$after&limit=16")
    [ "$code" = "$want" ] || { cat "body.$name"; echo
        fail "$name: HTTP $code, want $want"; }
    echo "$name: HTTP $code $(head -c 160 "body.$name" | tr -d '\0' |
        grep -ao '"error":"[a-z_]*"' || echo frames)"
}
try own 200 st1/station.key 0 0 -
# Frames of station 1's answer: the change and the training only.
"$PY" - body.own <<'PYEOF' || fail "own answer"
import struct, sys
d = open(sys.argv[1], "rb").read()
pos, n = 32, 0
while pos + 8 <= len(d):
    pos += 12 + struct.unpack(">I", d[pos + 4:pos + 8])[0]
    n += 1
sys.exit(0 if n == 2 else "station 1's answer holds %d frames, want 2" % n)
PYEOF
try forged 401 st1/station.key 0 0 - "${ST[2]}"
grep -q "signature" body.forged || fail "forged: reason"
try outsider 403 stx/station.key 0 0 -
try stale 401 st1/station.key 0 -900000 -
try future 401 st1/station.key 0 900000 -
grep -q "ahead" body.future || fail "future: reason"
code=$(curl -s -o body.none -w '%{http_code}' --cacert ca.pem \
    "$URL/v1/pull?after=0&limit=16")
[ "$code" = 401 ] || fail "no credentials: HTTP $code"
NONCE=00112233445566778899aabbccddeeff
try first 200 st1/station.key 0 0 $NONCE
try replay 401 st1/station.key 0 0 $NONCE "" hdr.first
grep -q "replay" body.replay || fail "replay: reason"
# A request captured with a time beyond the window is refused by its time.
try old 401 st1/station.key 0 -301000 abababababababababababababababab
# Station 2 never obtains station 1's case, whatever cursor it asks from.
try st2 200 st2/station.key 0 0 -
"$PY" - body.st2 "$CASE" <<'PYEOF' || fail "st2 answer holds station 1's case"
import sys, uuid
d = open(sys.argv[1], "rb").read()
sys.exit(1 if uuid.UUID(sys.argv[2]).bytes in d else 0)
PYEOF
hub_stop

echo "== transfer of a case from station 1 to station 2"
hub_cmd transfer "$CASE" --to 440983102000-02 || fail "transfer"
cat hubcmd.out
hub_cmd transfer "$CASE" --to 440983102000-02 && fail "transfer twice"
hub_start
sync_st st2
[ "$(pulled)" -ge 1 ] || { cat sync.out; fail "st2 pulled no transfer"; }
O2=$(unit_id 2)
for q in "cases WHERE id='$CASE'" "case_assessments WHERE id='$ASM'" \
    "clients WHERE id='$CL'" "client_categories WHERE id='$CAT'"; do
    [ "$(val st2 "SELECT owner_unit_id FROM $q")" = "$O2" ] ||
        fail "st2 lacks $q, or not as its owner"
done
[ "$(val st2 "SELECT risk_level || case_no FROM cases WHERE id='$CASE'")" = \
    "high440983102000-01-2025-A-0001" ] || fail "st2: not the full state"
[ "$(val st2 "SELECT count(*) FROM cases WHERE id='$CASE2'")" = 0 ] ||
    fail "st2 received the client's other case"
sync_st st1
[ "$(pulled)" = 1 ] || { cat sync.out; fail "st1: the owner change once"; }
[ "$(val st1 "SELECT owner_unit_id FROM cases WHERE id='$CASE'")" = "$O2" ] ||
    fail "st1 not told the new owner"
[ "$(val st1 "SELECT owner_unit_id FROM cases WHERE id='$CASE2'")" = \
    "$(unit_id 1)" ] || fail "st1's other case moved"
hub_stop
hub_cmd change cases "$CASE" risk_level=key || fail "change after transfer"
grep -q "for 440983102000-02" hubcmd.out || fail "after transfer: addressee"
hub_start
sync_st st1
[ "$(pulled)" = 0 ] || { cat sync.out; fail "st1 received a moved case"; }
[ "$(val st1 "SELECT risk_level FROM cases WHERE id='$CASE'")" = high ] ||
    fail "st1's copy changed"
sync_st st2
[ "$(pulled)" = 1 ] || { cat sync.out; fail "st2 missed the change"; }
[ "$(val st2 "SELECT risk_level FROM cases WHERE id='$CASE'")" = key ] ||
    fail "st2 did not merge the change"
hub_stop

echo "== cursor crash-safety: SIGKILL during a large pull"
cp -a st1 snap
N=120
# One hub process per change keeps the test simple (about 0.1 s each).
for i in $(seq 1 $N); do
    hub_cmd change cases "$CASE2" "summary=第${i}次督导意见" ||
        fail "change $i"
done
hub_start
cp -a snap clean
"$A" --dir clean sync >sync.out 2>&1 || { cat sync.out; fail "clean pull"; }
[ "$(pulled)" = $N ] || { cat sync.out; fail "clean pull of $N frames"; }
grep "^pulled" sync.out # requests and bytes of a 120-frame pull
WANT=$("$PT" hash clean/replica.db) || fail "hash clean"
killed=0
for round in 1 2 3 4 5 6; do
    rm -rf crash && cp -a snap crash
    "$A" --dir crash sync >crash.out 2>&1 &
    APID=$!
    PIDS+=("$APID")
    # A whole 120-frame pull takes about 0.1 s on a quiet machine and
    # several times that under load: odd rounds kill within 5-84 ms, even
    # rounds within 5-604 ms.
    ms=$((round % 2 ? RANDOM % 80 + 5 : RANDOM % 600 + 5))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$APID" 2>/dev/null && killed=$((killed + 1))
    wait "$APID" 2>/dev/null
    CUR=$(val crash "SELECT max(seq) FROM _sw_pull")
    "$A" --dir crash sync >sync.out 2>&1 ||
        { cat sync.out; fail "round $round: pull after the kill"; }
    GOT=$("$PT" hash crash/replica.db) || fail "hash crash"
    [ "$GOT" = "$WANT" ] ||
        fail "round $round (killed at cursor ${CUR:-0}): replica differs"
    echo "round $round: killed at cursor ${CUR:-0}, then pulled $(pulled)" \
        "frames: same content hash"
done
[ $killed -ge 1 ] || fail "the agent was never killed mid-pull"
hub_stop

echo "== the ledger holds the authored frames as leaves and verifies"
"$HUB" ledger --config county.conf --out ledger.log >ledger.out 2>&1 ||
    { cat ledger.out; fail "ledger"; }
[ "$(nframes ledger.log)" = "$(sqlite3 -readonly cdata/hub.db \
    'SELECT (SELECT count(*) FROM frame) + (SELECT count(*) FROM
     hub_outbound)')" ] || fail "ledger size"
"$AUDIT" --json --root "$ROOT" --ledger "$CK:ledger.log" root.log cdata \
    st1/station.log st2/station.log >audit.out 2>&1 ||
    { cat audit.out; fail "audit with the ledger"; }
grep -q '"type":"finding"' audit.out && { cat audit.out; fail "findings"; }
echo "PASS"
