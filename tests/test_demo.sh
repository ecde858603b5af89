#!/bin/bash
# The demo (`./run demo`, tools/demo/swsync-demo.sh) run non-interactively
# in a temporary folder: it must exit 0, its summary must show every record
# made at the province (269 rows: 3 stations x 88 of their own + the 5
# shared units), frames at both hubs, the down step's transfer and
# concurrent edit checked by the demo itself (it fails when station 2 lacks
# the transferred case, station 1 misses its new owner, or the conflict is
# not recorded with one winner at station 1 and the county), verify and
# audit ok and the county's
# station page, which must answer while the hubs run (--keep); then the
# hubs it left are stopped with the stop.sh it wrote.
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-test-demo-XXXXXX")
fail() { echo "FAIL: $*"; exit 1; }
cleanup() {
    [ -x "$T/demo/stop.sh" ] && "$T/demo/stop.sh"
    rm -rf "$T"
}
trap cleanup EXIT

"$SRC/tools/demo/swsync-demo.sh" --build "$BUILD" --dir "$T/demo" --keep \
    </dev/null >"$T/out" 2>&1
rc=$?
tail -n 16 "$T/out"
[ $rc = 0 ] || { cat "$T/out"; fail "demo exit $rc"; }
S=$T/demo/summary.txt
[ -f "$S" ] || fail "no summary.txt"
while read -r line; do
    grep -qxF "$line" "$T/out" || fail "summary line '$line' not printed"
done <"$S"
get() { sed -n "s/^$1: //p" "$S"; }
[ "$(get stations)" = 3 ] || fail "stations: $(get stations)"
made=$(get "records made")
[ "$made" = 269 ] || fail "records made: $made, want 269"
[ "$(get "records at province")" = "$made" ] ||
    fail "records at province $(get "records at province") != made $made"
[ "$(get "records made and at province")" = "$made" ] ||
    fail "not the same records at the province"
[ "$(get "frames at county")" -ge 3 ] || fail "frames at county"
[ "$(get "frames at province")" -ge 4 ] || fail "frames at province"
[ "$(get transfer)" = ok ] || fail "transfer: $(get transfer)"
[ "$(get "concurrent edit")" = ok ] || fail "concurrent edit: $(get "concurrent edit")"
[ "$(get verify)" = ok ] || fail "verify: $(get verify)"
[ "$(get audit)" = ok ] || fail "audit: $(get audit)"
page=$(get "county station page")
[[ $page =~ ^https://127\.0\.0\.1:[0-9]+/stations$ ]] || fail "page '$page'"
curl -sf --max-time 10 --cacert "$T/demo/tls/ca.pem" "$page" >"$T/page" ||
    fail "the county's station page did not answer"
for n in 1 2 3; do
    grep -q "44098310${n}000-01" "$T/page" ||
        fail "station $n's unit not on the page"
done
# Nothing personal printed: no ID number or name of a generated row.
python3 - "$T/out" "$T/demo" <<'PYEOF' || fail "personal data in the output"
import csv, glob, sys
out = open(sys.argv[1], encoding="utf-8").read()
for f in glob.glob(sys.argv[2] + "/csv*/0[236]_*.csv"):
    for row in csv.DictReader(open(f, encoding="utf-8")):
        for col in ("name", "id_number", "phone"):
            v = row.get(col)
            if v and v in out:
                sys.exit("%s %s of %s printed" % (col, "value", f))
PYEOF
"$T/demo/stop.sh"
for i in $(seq 1 50); do
    pgrep -f "$T/demo/" >/dev/null || break
    sleep 0.1
done
pgrep -f "$T/demo/" >/dev/null && fail "hubs still running after stop.sh"
echo "demo test passed"
