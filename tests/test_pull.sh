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
. "$SRC/tests/support/client_env.sh"
K=$BUILD/tools/swsync-keys
A=$BUILD/agent/cli/swsync-agent
HUB=$BUILD/agent/hub/swsync-hub
AUDIT=$BUILD/tools/swsync-audit
PT=$BUILD/tests/swsync_test_pulltool
for x in "$K" "$A" "$HUB" "$AUDIT" "$PT"; do
    [ -x "$x" ] || fail "$x not built"
done
cd "$T" || fail cd
export SWSYNC_PASSPHRASE_FILE=/nonexistent # keys are unsealed: never asked

echo "== keys: root -> county -> two stations"
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null || fail root
$K new --out county.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject county.key \
    --role county --unit 440983 >/dev/null || fail "certify county"
ROOT=$($K pub root.key)
CK=$($K pub county.key)
mkdir -p cdata
ST=()
for n in 1 2; do
    "$A" --dir "st$n" init --unit "440983102000-0$n" \
        --hub-url https://127.0.0.1:1 --hub-ca "$T/ca.pem" --hub-key "$CK" \
        >init.out 2>&1 || { cat init.out; fail "init station $n"; }
    ST[$n]=$(sed -n 's/^station public key: //p' init.out)
    [ ${#ST[$n]} = 64 ] || fail "no key in init's output for station $n"
    $K certify --issuer county.key --issuer-log cdata/hub.log \
        --certs root.log --subject "${ST[$n]}" --role station \
        --unit "440983102000-0$n" --from "$(date -u -d '-1 day' +%F)" \
        --until "$(date -u -d '+1 year' +%F)" \
        $([ $n = 1 ] && echo --create) >/dev/null 2>>certify.err ||
        fail "certify station $n"
done
# A station key no hub certified (the scope attack's outsider).
"$A" --dir stx init --unit 440983102000-09 --hub-url https://127.0.0.1:1 \
    --hub-ca "$T/ca.pem" --hub-key "$CK" >/dev/null 2>&1 || fail "init stx"

# ---- records (synthetic: valid check digits, no real persons) ---------
UP=0193a000-0000-7000-8000-000000000044
UC=0193a000-0000-7000-8000-000000440983
unit_id() { printf '0193a000-0000-7000-8000-%012d' "$1"; }
resid() { # resident ID with a correct check digit, born 1950-03-0N
    "$PY" - "$1" <<'PYEOF'
import sys
body = "44098319500301%03d" % (100 + 2 * int(sys.argv[1]) + 1)
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
s = sum(int(c) * x for c, x in zip(body, w)) % 11
print(body + "10X98765432"[s])
PYEOF
}
for n in 1 2; do
    cat >orgs.csv <<EOF
id,level,parent_id,name,unit_code,division_code,division_code_year,status
$UP,provincial_hub,,测试省中心,44,440000,2024,active
$UC,county_hub,$UP,测试县中心,440983,440983,2024,active
$(unit_id 1),station,$UC,测试镇社工站1,440983102000-01,440983102000,2024,active
$(unit_id 2),station,$UC,测试镇社工站2,440983102000-02,440983102000,2024,active
EOF
    "$A" --dir "st$n" import org_units orgs.csv >/dev/null 2>err ||
        { cat err; fail "import org units at station $n"; }
done
add() { # add DIR TABLE col=value...: prints the new id
    local d=$1
    shift
    "$A" --dir "$d" add "$@" 2>add.err || { cat add.err >&2; return 1; }
}
SW=$(add st1 staff name=测试社工 gender=female id_type=none \
    role=social_worker employment=direct_hire start_date=2024-01-01) ||
    fail "add staff"
CL=$(add st1 clients name=测试老人 gender=male birth_date=1950-03-01 \
    id_type=resident_id id_number="$(resid 1)" village_code=440983102001) ||
    fail "add client"
CAT=$(add st1 client_categories client_id="$CL" category=elderly_alone \
    start_date=2025-01-01 source=screening verified=1) || fail "add category"
CASE=$(add st1 cases client_id="$CL" worker_id="$SW" \
    case_no=440983102000-01-2025-A-0001 opened_on=2025-01-05 \
    consent_by=self source=outreach stage=intake risk_level=general) ||
    fail "add case"
ASM=$(add st1 case_assessments case_id="$CASE" assessor_id="$SW" \
    assessed_on=2025-01-06 kind=initial needs='["economic"]' \
    risk_level=general) || fail "add assessment"
CASE2=$(add st1 cases client_id="$CL" worker_id="$SW" \
    case_no=440983102000-01-2024-A-0009 opened_on=2024-02-05 \
    consent_by=self source=outreach stage=intake risk_level=general) ||
    fail "add a second case"

# ---- helpers -----------------------------------------------------------
cat >county.conf <<EOC
listen = 127.0.0.1
port = 0
tls_cert = $T/hub.pem
tls_key = $T/hub.key
hub_key = county.key
data = cdata
root_key = $ROOT
trust_log = root.log
unit = 440983
connection_timeout = 5
shutdown_grace = 2
max_push_frames = 16
EOC
HUB_PID=
hub_start() {
    rm -f county.port
    "$HUB" --config county.conf --port-file county.port 2>>county.err &
    HUB_PID=$!
    PIDS+=("$HUB_PID")
    wait_file county.port
    HUB_PORT=$(cat county.port)
}
hub_stop() { # SIGTERM; the hub stops cleanly with 0 (ASan: no leaks)
    kill "$HUB_PID" 2>/dev/null
    wait "$HUB_PID"
    local rc=$?
    [ $rc = 0 ] || { tail -20 county.err; fail "hub exit $rc at stop"; }
}
hub_cmd() { # swsync-hub change/add/transfer with the hub stopped
    "$HUB" "$@" --config county.conf >hubcmd.out 2>hubcmd.err ||
        { cat hubcmd.out hubcmd.err; return 1; }
}
sync_st() { # sync_st DIR: sync --seal; output in sync.out
    "$A" --dir "$1" sync --seal >sync.out 2>&1 ||
        { cat sync.out; fail "$1: sync"; }
}
val() { # val DIR SQL
    sqlite3 -readonly "$1/replica.db" "$2" 2>/dev/null
}
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
echo "port = $HUB_PORT" >>county.conf # restarts keep the stations' URL
for n in 1 2; do
    sed -i "s|^hub_url = .*|hub_url = https://127.0.0.1:$HUB_PORT|" \
        "st$n/station.conf"
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
    sleep "0.$((RANDOM % 9 + 1))"
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
