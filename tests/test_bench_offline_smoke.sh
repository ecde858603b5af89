#!/bin/bash
# bench/bench_offline.sh runs, on a fast emulated link (2 Mbit/s, 20 ms),
# so it cannot rot: a station back from a week offline syncs both ways
# through the proxy, every run prints its figures. Asserted: the sync
# itself (the bench fails otherwise), the same frames through both links,
# and the bytes on the wire within 1.2x the frames (a property of the
# protocol, not a timing); the times are not asserted.
# usage: test_bench_offline_smoke.sh BUILD_DIR SOURCE_DIR
set -u
out=$("$2/bench/bench_offline.sh" "$1" 2000000 20 2>&1) ||
    { echo "$out"; echo "FAIL: bench_offline.sh"; exit 1; }
echo "$out"
n=$(grep -c ' ratio ' <<<"$out")
[ "$n" = 2 ] || { echo "FAIL: $n ratio lines, want 2"; exit 1; }
grep -q 'pulled 11 frames' <<<"$out" || { echo "FAIL: not every county frame pulled"; exit 1; }
grep -q 'sent 1 frame (1 new' <<<"$out" || { echo "FAIL: the backlog was not pushed once"; exit 1; }
awk '/ ratio / { r = $NF; if (r + 0 <= 0 || r + 0 > 1.2) bad = 1 } END { exit bad }' <<<"$out" ||
    { echo "FAIL: wire bytes above 1.2x the frames"; exit 1; }
grep -q 'time / bound' <<<"$out" || { echo "FAIL: no bound line"; exit 1; }
echo ok
