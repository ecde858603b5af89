#!/bin/bash
# Three tiers end to end, real processes over HTTPS on 127.0.0.1 (issue 4):
# a root key; a provincial hub and a county hub certified by it; three
# stations made with `swsync-agent init`, certified by the county with unit
# codes and validity windows, holding synthetic records (valid resident-ID
# check digits, no real persons) entered with `import` and `add`, and
# `sync --seal` to the county. The county relays to the province with
# `swsync-hub relay` (one pass), then by the relay thread of the running hub
# (new records reach the province with no manual step). Checks: the
# province's feed copies equal the stations' logs frame for frame; the two
# replicas have the same content hash (`swsync-hub content-hash`);
# swsync-audit over everything with both hubs' ledgers (`swsync-hub ledger`)
# finds nothing. A dishonest county is caught: an altered station frame is
# refused `bad_signature` and a skipped frame `gap`, nothing stored. Last,
# the county hub is SIGKILLed during a relay pass and restarted: the relay
# completes, nothing lost or duplicated.
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/support/client_env.sh"
K=$BUILD/tools/swsync-keys
A=$BUILD/agent/cli/swsync-agent
HUB=$BUILD/agent/hub/swsync-hub
AUDIT=$BUILD/tools/swsync-audit
for x in "$K" "$A" "$HUB" "$AUDIT" "$PUSH" "$PROXY"; do
    [ -x "$x" ] || fail "$x not built"
done
cd "$T" || fail cd
export SWSYNC_PASSPHRASE_FILE=/nonexistent # keys are unsealed: never asked

echo "== keys: root -> province, county -> three stations"
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null || fail root
$K new --out prov.key >/dev/null
$K new --out county.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject prov.key \
    --role province --unit 44 >/dev/null || fail "certify province"
$K certify --issuer root.key --issuer-log root.log --subject county.key \
    --role county --unit 440983 >/dev/null || fail "certify county"
ROOT=$($K pub root.key)
PK=$($K pub prov.key)
CK=$($K pub county.key)
mkdir -p cdata pdata
ST=()
for n in 1 2 3; do
    "$A" --dir "st$n" init --unit "440983102000-0$n" \
        --hub-url https://127.0.0.1:1 --hub-ca "$T/ca.pem" >init.out 2>&1 ||
        { cat init.out; fail "init station $n"; }
    ST[$n]=$(sed -n 's/^station public key: //p' init.out)
    [ ${#ST[$n]} = 64 ] || fail "no key in init's output for station $n"
    $K certify --issuer county.key --issuer-log cdata/hub.log \
        --certs root.log --subject "${ST[$n]}" --role station \
        --unit "440983102000-0$n" --from "$(date -u -d '-1 day' +%F)" \
        --until "$(date -u -d '+1 year' +%F)" \
        $([ $n = 1 ] && echo --create) >/dev/null 2>>certify.err ||
        fail "certify station $n"
done

# ---- synthetic records -------------------------------------------------
# ids N COUNT: COUNT lines "ID GENDER": resident IDs of county 440983
# with correct check digits (GB 11643) and sex digits, different per
# station; invented, no real person.
ids() {
    "$PY" - "$1" "$2" <<'PYEOF'
import sys
n, k = int(sys.argv[1]), int(sys.argv[2])
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
for i in range(k):
    body = "440983%04d%02d%02d%03d" % (1940 + i % 40, 1 + i % 12,
                                       1 + (i * 7) % 28, 100 * n + i)
    s = sum(int(c) * x for c, x in zip(body, w)) % 11
    print(body + "10X98765432"[s], "male" if int(body[16]) % 2 else "female")
PYEOF
}
UP=0193a000-0000-7000-8000-000000000044 # fixed ids: the same rows in
UC=0193a000-0000-7000-8000-000000440983 # every station (last writer wins)
unit_id() { printf '0193a000-0000-7000-8000-%012d' "$1"; }
for n in 1 2 3; do
    cat >orgs$n.csv <<EOF
id,level,parent_id,name,unit_code,division_code,division_code_year,status
$UP,provincial_hub,,测试省中心,44,440000,2024,active
$UC,county_hub,$UP,测试县中心,440983,440983,2024,active
$(unit_id $n),station,$UC,测试镇社工站$n,440983102000-0$n,440983102000,2024,active
EOF
    "$A" --dir "st$n" import org_units orgs$n.csv >/dev/null 2>err ||
        { cat err; fail "import org units at station $n"; }
    {
        echo "owner_unit_id,name,gender,birth_date,id_type,id_number,village_code"
        i=0
        ids $n 6 | while read -r id g; do
            i=$((i + 1))
            echo "$(unit_id $n),测试对象$n-$i,$g,${id:6:4}-${id:10:2}-${id:12:2},resident_id,$id,44098310220$n"
        done
    } >clients$n.csv
    "$A" --dir "st$n" import clients clients$n.csv >/dev/null 2>err ||
        { cat err; fail "import clients at station $n"; }
done

# ---- helpers -----------------------------------------------------------
# hubconf NAME KEY DATA UNIT [extra lines]: write NAME.conf
hubconf() {
    local name=$1 key=$2 data=$3 unit=$4
    shift 4
    {
        cat <<EOC
listen = 127.0.0.1
port = 0
tls_cert = $T/hub.pem
tls_key = $T/hub.key
hub_key = $key
data = $data
root_key = $ROOT
trust_log = root.log
unit = $unit
connection_timeout = 5
shutdown_grace = 2
EOC
        local l
        for l in "$@"; do echo "$l"; done
    } >"$name.conf"
}
# hub NAME CONF: start swsync-hub; HUB_PID, HUB_PORT
hub() {
    rm -f "$1.port"
    "$HUB" --config "$2" --port-file "$1.port" 2>>"$1.err" &
    HUB_PID=$!
    PIDS+=("$HUB_PID")
    wait_file "$1.port"
    HUB_PORT=$(cat "$1.port")
}
# same_frames A B: the two FORMAT §3 files hold the same frame bodies, in
# the same order, each once (envelopes differ: each file has its salt).
same_frames() {
    "$PY" - "$1" "$2" <<'PYEOF' || fail "$1 and $2 hold different frames"
import struct, sys
def bodies(p):
    d = open(p, "rb").read()
    out, pos = [], 32
    while pos + 8 <= len(d):
        n = struct.unpack(">I", d[pos + 4:pos + 8])[0]
        out.append(d[pos + 8:pos + 8 + n])
        pos += 12 + n
    return out
a, b = bodies(sys.argv[1]), bodies(sys.argv[2])
if a != b:
    sys.exit("%d frames vs %d, first difference at %s" % (len(a), len(b),
             next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                  min(len(a), len(b)))))
print("%s: %d frames, identical to %s" % (sys.argv[2], len(b), sys.argv[1]))
PYEOF
}
# nframes LOG: frames in a log file
nframes() {
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
# head DATA FEED: the seq a hub holds of a feed (its hub.db, read-only)
head_of() {
    local v
    v=$(sqlite3 -readonly "$1/hub.db" \
        "SELECT seq FROM feed WHERE key=x'$2'" 2>/dev/null)
    echo "${v:-0}"
}
# station_sync N: sync --seal station N to the county
station_sync() {
    "$A" --dir "st$1" sync --seal >sync.out 2>&1 ||
        { cat sync.out; fail "station $1: sync --seal"; }
}

echo "== province and county hubs"
hubconf prov prov.key pdata 44 "max_push_frames = 16"
hub prov prov.conf
PPID_=$HUB_PID
PURL=https://127.0.0.1:$HUB_PORT
hubconf county county.key cdata 440983
hub county county.conf
CPID=$HUB_PID
CURL_=https://127.0.0.1:$HUB_PORT
echo "port = $HUB_PORT" >>county.conf # restarts keep the stations' URL
# The same county with the province upstream (one-shot relay, then the
# relay thread).
hubconf county-up county.key cdata 440983 "port = $HUB_PORT" \
    "upstream_url = $PURL" "upstream_ca = $T/ca.pem" "upstream_key = $PK" \
    "relay_interval = 30"
for n in 1 2 3; do
    sed -i "s|^hub_url = .*|hub_url = $CURL_|" "st$n/station.conf"
    station_sync $n
    grep -q "acknowledges" sync.out || { cat sync.out; fail "station $n"; }
    same_frames "st$n/station.log" "cdata/feeds/${ST[$n]}.log"
done

echo "== one relay pass: swsync-hub relay"
"$HUB" relay --config county-up.conf >relay.out 2>&1 ||
    { cat relay.out; fail "relay pass"; }
cat relay.out
grep -q "result: SWLOG_OK" relay.out || fail "relay result"
grep -q "4 files, feeds 4 ok 4 refused 0 failed 0" relay.out ||
    fail "relay summary"
for n in 1 2 3; do
    same_frames "st$n/station.log" "pdata/feeds/${ST[$n]}.log"
done
[ "$(head_of pdata "$CK")" -ge 3 ] || fail "the county's feed at the province"
"$HUB" relay --config county-up.conf >relay.out 2>&1 ||
    { cat relay.out; fail "second relay pass"; }
grep -q "frames sent 0 " relay.out || { cat relay.out; fail "resent frames"; }
"$HUB" relay --config county.conf >relay.out 2>&1
[ $? = 1 ] && grep -q "no upstream_url" relay.out ||
    { cat relay.out; fail "relay without upstream_url"; }

hubconf bad1 county.key cdata 440983 "upstream_url = $PURL"
"$HUB" relay --config bad1.conf >out 2>&1
[ $? = 1 ] && grep -q "'upstream_ca (with upstream_url)' is required" out ||
    { cat out; fail "upstream_url without upstream_ca"; }
hubconf bad2 county.key cdata 440983 "upstream_url = http://127.0.0.1:1" \
    "upstream_ca = $T/ca.pem"
"$HUB" relay --config bad2.conf >out 2>&1
[ $? = 1 ] && grep -q "bad2.conf:.*bad value for 'upstream_url'" out ||
    { cat out; fail "plain http upstream accepted"; }
hubconf bad3 county.key cdata 440983 "upstream_url = $PURL" \
    "upstream_ca = $T/otherca.pem"
"$HUB" relay --config bad3.conf >out 2>&1
[ $? = 4 ] && grep -q "result: CLIENT_ETLS" out ||
    { cat out; fail "upstream with the wrong CA"; }

echo "== the relay thread: new records reach the province by themselves"
stop "$CPID"
hub county county-up.conf
CPID=$HUB_PID
grep -q "relaying to $PURL" county.err || fail "no relay thread announced"
read -r id g < <(ids 2 7 | tail -1)
"$A" --dir st2 add clients owner_unit_id="$(unit_id 2)" name=测试对象2-新 \
    gender="$g" birth_date="${id:6:4}-${id:10:2}-${id:12:2}" \
    id_type=resident_id id_number="$id" village_code=440983102202 \
    >/dev/null ||
    fail "add at station 2"
station_sync 2
want=$(nframes st2/station.log)
for i in $(seq 1 100); do
    [ "$(head_of pdata "${ST[2]}")" = "$want" ] && break
    sleep 0.1
done
[ "$(head_of pdata "${ST[2]}")" = "$want" ] ||
    fail "station 2's seq $want did not reach the province within 10 s"
same_frames st2/station.log "pdata/feeds/${ST[2]}.log"
echo "station 2's new frame reached the province through the relay thread"

# Quiet: the county's own feed (certificates, checkpoints) fully relayed.
for i in $(seq 1 100); do
    [ "$(head_of pdata "$CK")" = "$(nframes cdata/hub.log)" ] && break
    sleep 0.1
done
same_frames cdata/hub.log "pdata/feeds/$CK.log"

echo "== the county's and the province's replicas agree"
hc=$("$HUB" content-hash --config county-up.conf) || fail "content-hash county"
hp=$("$HUB" content-hash --config prov.conf) || fail "content-hash province"
echo "county $hc"
echo "province $hp"
[ ${#hc} = 64 ] && [ "$hc" = "$hp" ] || fail "content hashes differ"

echo "== swsync-audit with both hubs' ledgers"
"$HUB" ledger --config county-up.conf --out cledger.log >out 2>&1 ||
    { cat out; fail "county ledger"; }
cat out
"$HUB" ledger --config prov.conf --out pledger.log >out 2>&1 ||
    { cat out; fail "province ledger"; }
cat out
[ "$(nframes cledger.log)" = "$(sqlite3 -readonly cdata/hub.db \
    'SELECT count(*) FROM frame')" ] || fail "county ledger size"
# The stations' folders: their replicas' stored receipts are checked too
# (spec/SECURITY.md §8.9), as is the county's relay.db (the province's).
"$AUDIT" --json --root "$ROOT" --ledger "$CK:cledger.log" \
    --ledger "$PK:pledger.log" root.log pdata cdata st1 st2 st3 \
    >audit.out 2>&1
rc=$?
tail -1 audit.out
[ $rc = 0 ] || { cat audit.out; fail "audit exit $rc"; }
grep -q '"type":"finding"' audit.out && { cat audit.out; fail "findings"; }
grep -q '"replicas":4,' audit.out ||
    { tail -1 audit.out; fail "not the three stations' and the relay's receipts"; }
r=$(grep -o '"receipts":[0-9]*,"receipts_proven":[0-9]*' audit.out)
case $r in
'"receipts":'*) [ "${r#*proven\":}" = "$(echo "$r" | sed 's/"receipts":\([0-9]*\),.*/\1/')" ] &&
    [ "${r#*proven\":}" -gt 12 ] || fail "receipts not all proven: $r" ;;
*) fail "no receipt count" ;;
esac
"$PY" -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
assert s["type"] == "summary", s
print("audit summary:", {k: v for k, v in s.items() if not isinstance(v, (list, dict))})
' audit.out || fail "audit summary"
# A ledger that misses a leaf no longer matches the hub's checkpoints.
"$PY" - pledger.log bad.log <<'PYEOF' || fail "cut ledger"
import struct, sys
d = open(sys.argv[1], "rb").read()
pos = 32
pos += 12 + struct.unpack(">I", d[pos + 4:pos + 8])[0]
n = struct.unpack(">I", d[pos + 4:pos + 8])[0]
open(sys.argv[2], "wb").write(d[:pos] + d[pos + 12 + n:])
PYEOF
"$AUDIT" --json --root "$ROOT" --ledger "$PK:bad.log" root.log pdata \
    >audit.out 2>&1 && fail "a ledger without its second leaf passed"
grep -q '"checkpoint_inconsistent"\|"receipt_dropped"' audit.out ||
    { tail -3 audit.out; fail "no checkpoint finding for a cut ledger"; }

echo "== a dishonest county: altered and skipped frames are refused"
# Station 3 seals two more change-sets and keeps them to itself.
for x in 1 2; do
    read -r id g < <(ids 3 $((6 + x)) | tail -1)
    "$A" --dir st3 add clients owner_unit_id="$(unit_id 3)" \
        name="测试对象3-后$x" gender="$g" \
        birth_date="${id:6:4}-${id:10:2}-${id:12:2}" id_type=resident_id \
        id_number="$id" village_code=440983102203 >/dev/null ||
        fail "add at station 3"
    "$A" --dir st3 seal >/dev/null || fail "seal at station 3"
done
h3=$(head_of pdata "${ST[3]}")
n3=$(nframes st3/station.log)
[ "$n3" = $((h3 + 2)) ] || fail "station 3: $n3 frames, province holds $h3"
size3=$(stat -c %s "pdata/feeds/${ST[3]}.log")
# forge IN OUT MODE: a copy of IN with frame h3+1 altered (one byte of its
# signed header: the low byte of its HLC time, so it still decodes and the
# payload hash holds; the signature cannot) or dropped; envelope CRCs
# recomputed, so the file itself is sound.
forge() {
    "$PY" - "$1" "$2" "$3" "$h3" <<'PYEOF' || fail "forge $3"
import os, struct, sys
def crc32c(b, c=0xFFFFFFFF):
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
    return c ^ 0xFFFFFFFF
d = open(sys.argv[1], "rb").read()
mode, k = sys.argv[3], int(sys.argv[4])
salt = d[12:28]
pos, out, i = 32, d[:32], 0
while pos + 8 <= len(d):
    n = struct.unpack(">I", d[pos + 4:pos + 8])[0]
    body = bytearray(d[pos + 8:pos + 8 + n])
    pos += 12 + n
    i += 1
    if i == k + 1 and mode == "skip":
        continue
    if i == k + 1 and mode == "alter":
        body[83] ^= 0x01
    head = d[:0] + b"\xf5\x1e\x00\x00" + struct.pack(">I", n)
    out += head + bytes(body) + struct.pack(">I", crc32c(salt + head + body))
open(sys.argv[2], "wb").write(out)
PYEOF
}
forge st3/station.log altered.log alter
"$PUSH" --url "$PURL" --ca "$T/ca.pem" --state liar.db --hub-key "$PK" \
    altered.log >out 2>&1 && { cat out; fail "an altered frame went through"; }
grep -q "result: CLIENT_EREFUSED" out || { cat out; fail "no refusal (alter)"; }
e=$(sqlv liar.db "SELECT error FROM _sw_refused WHERE seq=$((h3 + 1))")
[ "$e" = bad_signature ] || fail "altered frame refused as '$e'"
echo "altered frame $((h3 + 1)): refused $e"
forge st3/station.log skipped.log skip
"$PUSH" --url "$PURL" --ca "$T/ca.pem" --state liar2.db --hub-key "$PK" \
    skipped.log >out 2>&1 && { cat out; fail "a skipped frame went through"; }
grep -q "result: CLIENT_EREFUSED" out || { cat out; fail "no refusal (skip)"; }
e=$(sqlv liar2.db "SELECT error FROM _sw_refused WHERE seq=$((h3 + 2))")
[ "$e" = gap ] || fail "frame after a skipped one refused as '$e'"
echo "frame $((h3 + 2)) after a skipped frame: refused $e"
[ "$(head_of pdata "${ST[3]}")" = "$h3" ] || fail "province head moved"
[ "$(stat -c %s "pdata/feeds/${ST[3]}.log")" = "$size3" ] ||
    fail "the province stored something of a refused push"
# The honest frames still go through afterwards.
station_sync 3
for i in $(seq 1 100); do
    [ "$(head_of pdata "${ST[3]}")" = "$n3" ] && break
    sleep 0.1
done
same_frames st3/station.log "pdata/feeds/${ST[3]}.log"

echo "== SIGKILL the county hub during a relay pass"
stop "$CPID"
# A slow link to the province (each chunk delayed) and many frames.
start_proxy slow "${PURL##*:}" --delay-ms 40
hubconf county-slow county.key cdata 440983 "port = ${CURL_##*:}" \
    "upstream_url = https://127.0.0.1:$PROXY_PORT" "upstream_ca = $T/ca.pem" \
    "upstream_key = $PK" "relay_interval = 1"
old=$(head_of pdata "${ST[1]}")
for i in $(seq 1 60); do
    "$A" --dir st1 add clients owner_unit_id="$(unit_id 1)" \
        name="测试对象1-批$i" gender=unknown birth_date=1960-01-01 \
        id_type=none village_code=440983102201 >/dev/null || fail "add $i"
    "$A" --dir st1 seal >/dev/null || fail "seal $i"
done
n1=$(nframes st1/station.log)
hub county county.conf # no relay: the station's frames arrive first
CPID=$HUB_PID
station_sync 1
stop "$CPID"
t0=$(date +%s.%N)
hub county county-slow.conf
CPID=$HUB_PID
mid=0
for i in $(seq 1 300); do
    h=$(head_of pdata "${ST[1]}")
    if [ "$h" -gt "$old" ]; then
        [ "$h" -lt "$n1" ] && mid=1
        break
    fi
    sleep 0.05
done
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null
echo "county killed with the province at seq $h of $n1 (relay started at $old)"
[ $mid = 1 ] || fail "the kill did not land during the relay pass"
hub county county-slow.conf
CPID=$HUB_PID
for i in $(seq 1 300); do
    [ "$(head_of pdata "${ST[1]}")" = "$n1" ] && break
    sleep 0.1
done
t1=$(date +%s.%N)
[ "$(head_of pdata "${ST[1]}")" = "$n1" ] ||
    fail "relay did not complete after the restart within 30 s"
echo "relay of $((n1 - old)) frames through a 40 ms/chunk link, with a kill" \
    "and restart: $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s"
for n in 1 2 3; do
    same_frames "st$n/station.log" "pdata/feeds/${ST[$n]}.log"
    [ "$(head_of pdata "${ST[$n]}")" = "$(nframes "st$n/station.log")" ] ||
        fail "station $n head at the province"
done
dups=$(sqlite3 -readonly pdata/hub.db \
    "SELECT count(*) - count(DISTINCT id) FROM frame")
[ "$dups" = 0 ] || fail "$dups frames stored twice at the province"

echo "== SIGTERM stops the relaying hub cleanly"
kill -TERM "$CPID"
for i in $(seq 1 100); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$CPID" 2>/dev/null && fail "county ignored SIGTERM"
wait "$CPID"
[ $? = 0 ] || fail "county exit status after SIGTERM"
stop "$PROXY_PID"
stop "$PPID_"

echo "== after the kill: ledgers of the stopped hubs, audit again"
"$HUB" ledger --config county-up.conf --out cledger.log >/dev/null 2>&1 ||
    fail "county ledger (hub stopped)"
"$HUB" ledger --config prov.conf --out pledger.log >/dev/null 2>&1 ||
    fail "province ledger (hub stopped)"
"$AUDIT" --json --root "$ROOT" --ledger "$CK:cledger.log" \
    --ledger "$PK:pledger.log" root.log pdata cdata st1/station.log \
    st2/station.log st3/station.log >audit.out 2>&1 ||
    { cat audit.out; fail "audit after the kill"; }
tail -1 audit.out
grep -q '"problems":0' audit.out || fail "problems after the kill"
hc=$("$HUB" content-hash --config county-up.conf) || fail "content-hash"
[ "$hc" = "$("$HUB" content-hash --config prov.conf)" ] ||
    fail "content hashes differ after the kill"
"$HUB" ledger --config prov.conf --out /nonexistent/x.log >out 2>&1 &&
    fail "ledger into a missing folder"
grep -q "nonexistent" out || { cat out; fail "ledger error names the path"; }
echo "three-tier tests passed"
