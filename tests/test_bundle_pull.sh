#!/bin/bash
# Pull frames in the hub's reply bundle (PROTOCOL §9.1, issue 5): a station
# that only ever exchanges bundles ends with the same replica content hash
# as its twin (a copy of the same station folder) that syncs over HTTPS
# with a copy of the same hub. The county authors two changes of the
# station's cases; `swsync-hub import-bundle` puts them in the reply's end
# line; `swsync-agent import-bundle REPLY` merges them with the code of a
# pull (bundle_import_mem: cursor in the same transaction). Also: a reply
# imported twice merges nothing new; --pull-after at the hub's head sends
# no frames; a pull body altered in the reply is refused (nothing merged).
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-test-bundle-pull-XXXXXX")
fail() {
    echo "FAIL: $*"
    exit 1
}
tiers_die() { fail "$*"; }
TIERS_DIR=$T
TIERS_KEYS=$BUILD/tools/swsync-keys
TIERS_AGENT=$BUILD/agent/cli/swsync-agent
TIERS_HUB=$BUILD/agent/hub/swsync-hub
PT=$BUILD/tests/swsync_test_pulltool
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
sed -i "s/^hub_key = .*/hub_key = $TIERS_CK/" st1/station.conf
python3 "$SRC/tools/demo/gen_records.py" --station 1 --out csv >/dev/null ||
    fail "gen_records"
for f in csv/0[1-5]_*.csv; do
    t=$(basename "$f" .csv)
    "$A" --dir st1 import "${t#[0-9][0-9]_}" "$f" >/dev/null 2>err ||
        { cat err; fail "import $f"; }
done
"$A" --dir st1 seal >/dev/null || fail seal
tiers_hubconf county county.key cdata 440983
tiers_hubconf cnet county.key cnet 440983
cp -r st1 st1net
pullinfo() { # pullinfo REPLY: "after frames more" of the end line
    tail -1 "$1" | python3 -c 'import json, sys
p = json.load(sys.stdin)["pull"]
print("null" if p is None else "%d %d %s" % (p["after"], p["frames"], p["more"]))'
}

echo "== round 1: the station's frames by bundle; nothing to pull yet"
"$A" --dir st1 export --out b1.swlog >/dev/null 2>&1 || fail export
"$HUB" import-bundle --config county.conf b1.swlog --reply r1.json >out 2>&1 ||
    { cat out; fail "import-bundle 1"; }
[ "$(pullinfo r1.json)" = "0 0 False" ] || fail "r1 pull: $(pullinfo r1.json)"
"$A" --dir st1 import-bundle r1.json >out 2>&1 || { cat out; fail "reply 1"; }
grep -q "pulled 0 frames from the reply" out || { cat out; fail "reply 1 pull"; }

echo "== the county changes two of the station's cases"
CASES=$(sqlite3 -readonly st1/replica.db "SELECT id FROM cases ORDER BY id LIMIT 2")
[ "$(wc -w <<<"$CASES")" = 2 ] || fail "cases: $CASES"
for c in $CASES; do
    "$HUB" change --config county.conf cases "$c" risk_level=high \
        >out 2>&1 || { cat out; fail "hub change $c"; }
done
# The network twin's hub: the same data folder, copied.
cp -r cdata/. cnet/
rm -f cnet/hub.lock

echo "== round 2 by bundle: the reply carries the two change-sets"
"$A" --dir st1 export --out b2.swlog >/dev/null 2>&1 || fail "export 2"
"$HUB" import-bundle --config county.conf b2.swlog --reply r2.json >out 2>&1 ||
    { cat out; fail "import-bundle 2"; }
cat out
[ "$(pullinfo r2.json)" = "0 2 False" ] || fail "r2 pull: $(pullinfo r2.json)"
grep -q "carries 2 frames of the hub's feed" out || fail "hub: pull count"
# An altered pull body: refused, nothing merged.
python3 - r2.json alt.json <<'PYEOF' || fail "alter"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
e = json.loads(lines[-2])
b = bytearray.fromhex(e["pull"]["body"]); b[-40] ^= 1
e["pull"]["body"] = b.hex()
lines[-2] = json.dumps(e, separators=(",", ":"))
open(sys.argv[2], "w").write("\n".join(lines))
PYEOF
H0=$("$PT" hash st1/replica.db) || fail "pulltool hash"
"$A" --dir st1 import-bundle alt.json >out 2>&1 && fail "altered pull merged"
grep -q "alt.json.*pull frames" out || { cat out; fail "altered: message"; }
[ "$("$PT" hash st1/replica.db)" = "$H0" ] || fail "altered pull changed the replica"
"$A" --dir st1 import-bundle r2.json >out 2>&1 || { cat out; fail "reply 2"; }
cat out
CUR=$(sed -n 's/.*hub feed merged up to seq \([0-9]*\)$/\1/p' out)
grep -q "pulled 2 frames from the reply (2 new" out || fail "station: pulled"
for c in $CASES; do
    [ "$(sqlite3 -readonly st1/replica.db "SELECT risk_level FROM cases WHERE id='$c'")" = high ] ||
        fail "case $c not changed at the station"
done
H1=$("$PT" hash st1/replica.db)
"$A" --dir st1 import-bundle r2.json >out 2>&1 || { cat out; fail "reply 2 again"; }
grep -q "pulled 2 frames from the reply (0 new, 2 already merged)" out ||
    { cat out; fail "reply twice"; }
[ "$("$PT" hash st1/replica.db)" = "$H1" ] || fail "reply twice changed the replica"
[ -n "$CUR" ] && [ "$CUR" -gt 0 ] || fail "station cursor '$CUR'"
"$HUB" import-bundle --config county.conf b2.swlog --reply r3.json \
    --pull-after "$CUR" >out 2>&1 || { cat out; fail "import-bundle 3"; }
[ "$(pullinfo r3.json)" = "$CUR 0 False" ] || fail "r3 pull: $(pullinfo r3.json)"
"$HUB" import-bundle --config county.conf b2.swlog --reply r4.json \
    --pull-after x1 >out 2>&1
[ $? = 2 ] || fail "--pull-after x1 accepted"

echo "== the twin syncs over HTTPS with the copied hub"
tiers_hub cnet
sed -i "s|^hub_url = .*|hub_url = https://127.0.0.1:$HUB_PORT|" st1net/station.conf
"$A" --dir st1net sync >out 2>&1 || { cat out; fail "network sync"; }
grep -q "^pulled 2 frames" out || { cat out; fail "twin pull"; }
tiers_stop_all
H2=$("$PT" hash st1net/replica.db)
echo "bundle: $H1"
echo "sync:   $H2"
[ ${#H1} = 64 ] && [ "$H1" = "$H2" ] || fail "content hashes differ"
echo "bundle pull tests passed"
