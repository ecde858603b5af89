#!/bin/bash
# bench/bench_hub.sh runs, tiny (a few seconds), so it cannot rot: keys,
# TLS, a real swsync-hub on 127.0.0.1, 600 records of one station (more
# than the few hundred rows after which merges once failed with
# SQLITE_FULL, see agent/hub/swsync-hub.c) and 4 stations at once; every
# receipt verified, no errors, the hub stops cleanly. No figures asserted.
# usage: test_bench_hub_smoke.sh BUILD_DIR SOURCE_DIR
set -eu
out=$("$2/bench/bench_hub.sh" "$1" --changesets 12 --batch 4 --stations 4 \
    --station-changesets 3 2>&1) || { echo "$out"; echo "FAIL: bench_hub.sh"; exit 1; }
echo "$out"
echo "$out" | grep -q 'result: ok (accepted change-sets 12 + 12)' ||
    { echo "FAIL: not every change-set accepted"; exit 1; }
echo "$out" | grep -q 'errors 0,' || { echo "FAIL: errors"; exit 1; }
for w in 'baseline' 'hub ingest' 'wire bytes/record' 'JSON docs' \
    '4 stations at once'; do
    echo "$out" | grep -q "$w" || { echo "FAIL: no line '$w'"; exit 1; }
done
# Pushes that arrive together share a batch: never more batches than
# pushes, and at least one.
read -r nb np < <(echo "$out" | sed -n 's/^  hub batches: \([0-9]*\) for \([0-9]*\) pushes$/\1 \2/p')
[ -n "${nb:-}" ] && [ "$nb" -ge 1 ] && [ "$nb" -le "$np" ] ||
    { echo "FAIL: hub batches '${nb:-}' for '${np:-}' pushes"; exit 1; }
echo ok
