#!/bin/bash
# Smoke run of bench/bench_csvimport with few rows: it runs, imports them
# all and prints its figures, and leaves no files behind. No timing is
# checked (machines are shared and noisy). $1 = build dir, $2 = source dir.
set -u
BENCH=${1:?build dir}/bench/bench_csvimport
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-bench-csv-XXXXXX")
trap 'rm -rf "$T"' EXIT
TMPDIR=$T "$BENCH" 300 1 >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ "$rc" -eq 0 ] || { echo "FAIL: bench_csvimport exited $rc"; exit 1; }
for s in "300 clients rows" "import (CSV" "baseline (captured" \
         "ratio import / baseline" "peak RSS"; do
    grep -qF -- "$s" "$T/out" || { echo "FAIL: no '$s' in the output"; exit 1; }
done
[ -z "$(ls -A "$T" | grep -v '^out$')" ] ||
    { echo "FAIL: bench_csvimport left files behind"; exit 1; }
"$BENCH" 0 >/dev/null 2>&1 && { echo "FAIL: 0 rows accepted"; exit 1; }
echo "bench_csvimport smoke run passed"
