#!/bin/bash
# Offline bundles at the hub (PROTOCOL §9, §9.1): a station exports its
# frames (`swsync-agent export`), the county imports them
# (`swsync-hub import-bundle`, batches of 2 frames here) and writes a reply
# the station imports (`swsync-agent import-bundle REPLY`), storing the
# receipts like a sync's. Checks: the hub's copy of the feed equals the
# station's log; the hub replica's content hash equals that of a hub that
# got the same frames by a network sync; a second import stores nothing and
# answers duplicates (and a second reply changes nothing at the station); a
# bundle with one byte flipped (XOR with a random non-zero mask at a random
# place) is refused naming the file and the damaged frame's offset, with
# nothing stored; a reply from another hub, or cut short, is refused; a
# data folder in use by a running hub is refused.
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-test-hub-bundle-XXXXXX")
fail() {
    echo "FAIL: $*"
    exit 1
}
tiers_die() { fail "$*"; }
TIERS_DIR=$T
TIERS_KEYS=$BUILD/tools/swsync-keys
TIERS_AGENT=$BUILD/agent/cli/swsync-agent
TIERS_HUB=$BUILD/agent/hub/swsync-hub
. "$SRC/tools/demo/tiers.sh"
trap 'tiers_stop_all; rm -rf "$T"' EXIT
A=$TIERS_AGENT
HUB=$TIERS_HUB
cd "$T" || fail cd
export SWSYNC_PASSPHRASE_FILE=/nonexistent

tiers_tls
tiers_keys 44 440983
UNIT=440983101000-01
tiers_station 1 "$UNIT" https://127.0.0.1:1
ST=${TIERS_ST[1]}
sed -i "s/^hub_key = .*/hub_key = $TIERS_CK/" st1/station.conf
python3 "$SRC/tools/demo/gen_records.py" --station 1 --out csv >/dev/null ||
    fail "gen_records"
# Five change-sets: one per CSV file (units, staff, clients, cases, services).
for f in csv/0[1-5]_*.csv; do
    t=$(basename "$f" .csv)
    "$A" --dir st1 import "${t#[0-9][0-9]_}" "$f" >/dev/null 2>err ||
        { cat err; fail "import $f"; }
    "$A" --dir st1 seal >/dev/null || fail "seal after $f"
done
# Two hubs of the same county, in two data folders, before anything: one
# gets the bundle, the other a network sync.
cp -r cdata cnet
cp -r cdata cfresh
tiers_hubconf county county.key cdata 440983 "max_push_frames = 2"
tiers_hubconf cnet county.key cnet 440983
cp -r st1 st1net

echo "== export, import at the hub, reply"
"$A" --dir st1 export --out b.swlog >out 2>&1 || { cat out; fail export; }
cat out
"$HUB" import-bundle --config county.conf b.swlog --reply r.json >out 2>&1
rc=$?
cat out
[ $rc = 0 ] || fail "import-bundle exit $rc"
grep -q "b.swlog: 5 frames: 5 accepted, 0 already held, 0 refused" out ||
    fail "first import's counts"
[ "$(tiers_head cdata "$ST")" = 5 ] || fail "hub head $(tiers_head cdata "$ST")"
python3 - st1/station.log "cdata/feeds/$ST.log" <<'PYEOF' || fail "feed copy"
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
assert a == b and len(a) == 5, (len(a), len(b))
PYEOF
[ "$(head -1 r.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["batches"])')" = 3 ] ||
    fail "reply: want 3 batches of at most 2 frames"
tail -1 r.json | grep -q '"end":"swsync-bundle-reply/1"' || fail "reply end line"
"$BUILD/tools/swsync-verify" --quiet cdata/hub.log || fail "hub log"

echo "== the station stores the receipts"
"$A" --dir st1 import-bundle r.json >out 2>&1 || { cat out; fail "import reply"; }
cat out
grep -q "5 frames receipted (5 new at the hub, 0 already held), 0 refused; acknowledged up to seq 5" out ||
    fail "reply import counts"
nrec=$(sqlite3 -readonly st1/replica.db "SELECT count(*) FROM _sw_receipts")
[ "$nrec" = 5 ] || fail "_sw_receipts holds $nrec rows, want 5"
ack=$(sqlite3 -readonly st1/replica.db "SELECT max(acked_seq) FROM _sw_sync" 2>/dev/null ||
    true)
echo "receipts: $nrec, acked: ${ack:-?}"

echo "== the same bundle again: duplicates, nothing stored"
frames=$(sqlite3 -readonly cdata/hub.db "SELECT count(*) FROM frame")
size=$(stat -c %s "cdata/feeds/$ST.log")
hash1=$("$HUB" content-hash --config county.conf) || fail content-hash
"$HUB" import-bundle --config county.conf b.swlog --reply r2.json >out 2>&1 ||
    { cat out; fail "second import"; }
grep -q "5 frames: 0 accepted, 5 already held, 0 refused" out ||
    { cat out; fail "second import's counts"; }
[ "$(sqlite3 -readonly cdata/hub.db "SELECT count(*) FROM frame")" = "$frames" ] ||
    fail "frames stored by a second import"
[ "$(stat -c %s "cdata/feeds/$ST.log")" = "$size" ] || fail "feed file grew"
[ "$("$HUB" content-hash --config county.conf)" = "$hash1" ] ||
    fail "replica changed by a second import"
"$A" --dir st1 import-bundle r2.json >out 2>&1 || { cat out; fail "reply 2"; }
grep -q "0 new at the hub, 5 already held" out || { cat out; fail "reply 2"; }
[ "$(sqlite3 -readonly st1/replica.db "SELECT count(*) FROM _sw_receipts")" -ge 5 ] ||
    fail "receipts lost"

echo "== equal to a network sync: the same replica content hash"
tiers_hub cnet
sed -i "s|^hub_url = .*|hub_url = https://127.0.0.1:$HUB_PORT|" st1net/station.conf
"$A" --dir st1net sync >out 2>&1 || { cat out; fail "network sync"; }
# The running hub holds its data folder: an import there is refused.
"$HUB" import-bundle --config cnet.conf b.swlog --reply r3.json >out 2>&1 &&
    fail "import into a data folder in use"
grep -q "in use by another swsync-hub" out || { cat out; fail "lock message"; }
[ -e r3.json ] && fail "a reply written for a refused import"
tiers_stop_all
hash2=$("$HUB" content-hash --config cnet.conf) || fail "content-hash cnet"
echo "bundle: $hash1"
echo "sync:   $hash2"
[ ${#hash1} = 64 ] && [ "$hash1" = "$hash2" ] || fail "content hashes differ"

echo "== a flipped byte: refused with its offset, nothing stored"
tiers_hubconf cfresh county.key cfresh 440983
for round in 1 2 3; do
    read -r at frame_off < <(python3 - b.swlog bad.swlog <<'PYEOF'
import os, struct, sys
good = open(sys.argv[1], "rb").read()
d = bytearray(good)
at = 32 + int.from_bytes(os.urandom(4), "big") % (len(d) - 32)
d[at] ^= 1 + os.urandom(1)[0] % 255
open(sys.argv[2], "wb").write(d)
# The envelope holding byte `at`, by the undamaged file's lengths.
pos = 32
while at >= pos + 12 + struct.unpack(">I", good[pos + 4:pos + 8])[0]:
    pos += 12 + struct.unpack(">I", good[pos + 4:pos + 8])[0]
print(at, pos)
PYEOF
)
    before=$(ls cfresh/feeds 2>/dev/null | wc -l)
    "$HUB" import-bundle --config cfresh.conf bad.swlog --reply rb.json \
        >out 2>&1
    rc=$?
    cat out
    [ $rc = 1 ] || fail "damaged bundle (byte $at) exit $rc"
    grep -q "bad.swlog:$frame_off: .*nothing imported" out ||
        fail "byte $at flipped: message does not name offset $frame_off"
    [ -e rb.json ] && fail "a reply written for a damaged bundle"
    n=$(sqlite3 -readonly cfresh/hub.db "SELECT count(*) FROM frame" 2>/dev/null || echo 0)
    [ "$n" = 0 ] || fail "$n frames stored from a damaged bundle"
    [ "$(ls cfresh/feeds 2>/dev/null | wc -l)" = "$before" ] ||
        fail "feed files written from a damaged bundle"
done
# The undamaged bundle goes into the same folder afterwards.
"$HUB" import-bundle --config cfresh.conf b.swlog --reply rf.json >out 2>&1 ||
    { cat out; fail "the whole bundle after damaged ones"; }
grep -q "5 accepted" out || { cat out; fail "fresh import counts"; }

echo "== bad replies at the station"
nrec2=$(sqlite3 -readonly st1/replica.db "SELECT count(*) FROM _sw_receipts")
head -n 2 r.json >cut.json
"$A" --dir st1 import-bundle cut.json >out 2>&1 && fail "a cut reply passed"
grep -q "cut.json" out || { cat out; fail "cut reply message"; }
cat out
# A reply naming another hub (the province) in its header.
sed "1s/\"hub\":\"[0-9a-f]*\"/\"hub\":\"$TIERS_PK\"/" r.json >other.json
"$A" --dir st1 import-bundle other.json >out 2>&1 && fail "another hub's reply passed"
grep -q "not this station's hub" out || { cat out; fail "other hub message"; }
# A receipt altered: a proof hash changed.
python3 - r.json alt.json <<'PYEOF' || fail "alter reply"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
a = json.loads(lines[1])
p = a["receipt"]["proofs"][0]
p["path"] = p["path"] or ["00" * 32]
h = bytearray.fromhex(p["path"][0]); h[0] ^= 1; p["path"][0] = h.hex()
lines[1] = json.dumps(a, separators=(",", ":"))
open(sys.argv[2], "w").write("\n".join(lines))
PYEOF
"$A" --dir st1 import-bundle alt.json >out 2>&1 && fail "an altered receipt passed"
cat out
grep -q "alt.json:2: .*does not verify.*CLIENT_ERECEIPT" out ||
    fail "altered receipt message"
[ "$(sqlite3 -readonly st1/replica.db "SELECT count(*) FROM _sw_receipts")" = "$nrec2" ] ||
    fail "a bad reply stored receipts"
echo "== a frame the hub refuses: an uncertified station"
"$A" --dir st9 init --unit 440983109000-01 --hub-url https://127.0.0.1:1 \
    --hub-ca "$T/tls/ca.pem" >/dev/null 2>&1 || fail "init st9"
sed -i "s/^hub_key = .*/hub_key = $TIERS_CK/" st9/station.conf
"$A" --dir st9 import org_units csv/01_org_units.csv >/dev/null 2>&1 &&
    "$A" --dir st9 seal >/dev/null && "$A" --dir st9 export --out b9.swlog \
    >/dev/null || fail "st9 records"
"$HUB" import-bundle --config county.conf b9.swlog --reply r9.json >out 2>&1
rc=$?
cat out
[ $rc = 3 ] || fail "a refused frame: exit $rc, want 3"
grep -q "1 frames: 0 accepted, 0 already held, 1 refused" out ||
    fail "refused counts"
"$A" --dir st9 import-bundle r9.json >out 2>&1
rc=$?
cat out
[ $rc = 1 ] || fail "station: reply with a refusal exit $rc, want 1"
grep -q "0 frames receipted .* 1 refused" out || fail "station refused count"
e=$(sqlite3 -readonly st9/replica.db "SELECT error FROM _sw_refused WHERE seq=1")
[ "$e" = unknown_key ] || fail "refusal stored as '$e'"
echo "hub bundle tests passed"
