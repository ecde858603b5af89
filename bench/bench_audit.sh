#!/bin/bash
# swsync-audit throughput and memory against the physical limit of this
# machine (issue 6): generate an archive of STATIONS x CHANGESETS change-
# sets of RECORDS records (default 200 x 500 x 50 = 5 million records,
# about 290 MB of logs), audit it, and print records/s,
# peak memory and the ratio to the limit set by Ed25519 verification and
# hashing, measured in the same run (bench_audit). Also at a quarter of
# the stations and at a tenth of the change-sets, to show that memory stays
# flat as the archive grows (peak RSS from /usr/bin/time -v, the auditor's
# own --stats figure beside it).
# Figures are medians of three runs, CPU time (the machine is shared).
# usage: bench/bench_audit.sh BUILD_DIR [STATIONS CHANGESETS RECORDS]
set -eu
BUILD=${1:?build dir}
NS=${2:-200} NC=${3:-500} NR=${4:-50}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/swsync-bench-audit-XXXXXX")
trap 'rm -rf "$DIR"' EXIT
df -h "$DIR" | tail -1 | awk '{print "free disk: " $4}'

run() { # run STATIONS CHANGESETS: one archive, one audit, one line
    local ns=$1 nc=$2 d=$DIR/a-$1-$2
    ROOT=$("$BUILD/tests/swsync_test_mkarchive" "$d" clean --stations "$ns" \
        --changesets "$nc" --records "$NR" --no-hubs)
    # Three audits and three baselines, alternating; medians (the machine
    # is shared: single figures move by +-25%).
    local i cpus="" verifies="" limits=""
    for i in 1 2 3; do
        /usr/bin/time -v -o "$DIR/time$i" \
            "$BUILD/tools/swsync-audit" --json --stats --root "$ROOT" "$d" \
            | grep '"type":"summary"' >"$DIR/sum$i.json"
    done
    # the run with the median CPU time is the one reported
    for i in 1 2 3; do
        echo "$(grep -o '"cpu_seconds":[0-9.]*' "$DIR/sum$i.json" | cut -d: -f2) $i"
    done | sort -n | sed -n 2p | { read -r _ med; cp "$DIR/sum$med.json" "$DIR/sum.json"
        cp "$DIR/time$med" "$DIR/time"; }
    local maxrss
    maxrss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$DIR/time")
    local frames records bytes secs cpu rss
    frames=$(grep -o '"frames":[0-9]*' "$DIR/sum.json" | cut -d: -f2)
    records=$(grep -o '"records":[0-9]*' "$DIR/sum.json" | cut -d: -f2)
    bytes=$(grep -o '"bytes":[0-9]*' "$DIR/sum.json" | cut -d: -f2)
    secs=$(grep -o '"seconds":[0-9.]*' "$DIR/sum.json" | cut -d: -f2)
    cpu=$(grep -o '"cpu_seconds":[0-9.]*' "$DIR/sum.json" | cut -d: -f2)
    rss=$(grep -o '"peak_rss_kb":[0-9]*' "$DIR/sum.json" | cut -d: -f2)
    for i in 1 2 3; do
        "$BUILD/bench/bench_audit" $((bytes / frames)) $((records / frames))
    done | sort -n -k4 | sed -n 2p >"$DIR/base"
    read -r verify sha crc limit <"$DIR/base"
    awk -v f="$frames" -v r="$records" -v b="$bytes" -v s="$secs" \
        -v c="$cpu" -v m="$rss" -v v="$verify" -v h="$sha" -v k="$crc" \
        -v l="$limit" -v x="$maxrss" -v ns="$ns" -v nc="$nc" 'BEGIN {
        printf "%d stations x %d change-sets: %d frames, %d records, %.0f MB: " \
               "%.2f s wall, %.2f s CPU; %.0f records/s (wall), %.0f records/s " \
               "(CPU); peak RSS %d KiB (time -v; --stats %d KiB)\n",
               ns, nc, f, r, b / 1e6, s, c, r / s, r / c, x, m
        printf "  baseline (median of 3, CPU time): Ed25519 verify %d/s, SHA-256 %.0f MB/s, " \
               "CRC32C %.0f MB/s -> limit %d records/s; ratio %.2f (wall), " \
               "%.2f (CPU)\n", v, h, k, l, (r / s) / l, (r / c) / l }'
    rm -rf "$d"
}
run "$((NS / 4))" "$NC"
run "$NS" "$((NC / 10))"
run "$NS" "$NC"
