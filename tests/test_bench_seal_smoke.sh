#!/bin/bash
# Smoke run of bench/bench_seal: it runs, prints its figures and cleans up.
# No timing is checked (machines are shared and noisy).
# $1 = build directory, $2 = source directory.
set -u
BENCH=${1:?build dir}/bench/bench_seal
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-bench-seal-XXXXXX")
trap 'rm -rf "$T"' EXIT
"$BENCH" --quick --dir "$T" >"$T/out" 2>&1
rc=$?
cat "$T/out"
[ "$rc" -eq 0 ] || { echo "FAIL: bench_seal --quick exited $rc"; exit 1; }
for s in "Ed25519 signatures/s" "plain SQLite rows/s" "records/s" \
         "RSS peak KiB" "peak growth:" "goal:"; do
    grep -qF -- "$s" "$T/out" || { echo "FAIL: no '$s' in the output"; exit 1; }
done
for n in 2000 20000; do
    grep -qE "^ +$n +[0-9]+ " "$T/out" ||
        { echo "FAIL: no row for $n records"; exit 1; }
done
[ -z "$(ls -A "$T" | grep -v '^out$')" ] ||
    { echo "FAIL: bench_seal left files behind"; exit 1; }
echo "bench_seal smoke run passed"
