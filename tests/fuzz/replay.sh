#!/usr/bin/env bash
# CTest fuzz_replay: make the seed corpora (make_seeds.py, from the spec's
# vectors, a swsync-example log and a station's log, station_log.sh) and
# replay them through every fuzz target built without libFuzzer
# (replay_<target>). Usage: replay.sh BUILD SRC
set -euo pipefail
build=${1:?usage: replay.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: replay.sh BUILD_DIR SOURCE_DIR}
work=$build/fuzz-replay
rm -rf "$work"
mkdir -p "$work"
"$build/tools/swsync-example" "$work/example.log" >/dev/null
bash "$src/tests/fuzz/station_log.sh" "$build/agent/cli/swsync-agent" \
    "$work/station.log"
python3 "$src/tests/fuzz/make_seeds.py" --out "$work/seeds" \
    --vectors "$src/spec/vectors/vectors.txt" --log "$work/example.log" \
    --log "$work/station.log"
status=0
for f in "$src"/tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    dirs=()
    for d in "$work/seeds/$t" "$src/tests/fuzz/corpus/$t"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    [ "${#dirs[@]}" -gt 0 ] || continue
    printf '%s: ' "$t"
    "$build/tests/fuzz/replay_$t" "${dirs[@]}" || status=1
done
exit "$status"
