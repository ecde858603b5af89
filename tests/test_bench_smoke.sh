#!/bin/bash
# Smoke run of bench/bench_format: it runs and prints its three tables. No
# timing is checked (machines are shared and noisy; see bench_format.c).
# $1 = build directory, $2 = source directory.
set -u
BENCH=${1:?build dir}/bench/bench_format
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-bench-XXXXXX")
trap 'rm -rf "$T"' EXIT
"$BENCH" --quick --dir "$T" >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ "$rc" -eq 0 ] || { echo "FAIL: bench_format --quick exited $rc"; exit 1; }
for s in "(a) physical limit" "(b) full verification" "(c) bytes on disk" \
         "limit cs/s" "SQLite B/rec" "goal:"; do
    grep -qF -- "$s" "$T/out" || { echo "FAIL: no '$s' in the output"; exit 1; }
done
# Rows for the three change-set sizes in tables (b) and (c).
for n in 1 50 500; do
    [ "$(grep -cE "^    $n +[0-9]" "$T/out")" -eq 2 ] ||
        { echo "FAIL: no row for $n-record change-sets in both tables"; exit 1; }
done
[ -z "$(ls -A "$T" | grep -v '^out$')" ] ||
    { echo "FAIL: bench_format left files behind"; exit 1; }
echo "bench smoke run passed"
