#!/usr/bin/env bash
# swsync-example writes a log of 4 frames that the tools accept, refuses to
# overwrite without --force; a log with one flipped byte is refused by
# swsync-verify (when that tool is built). Usage: test_example.sh BUILD SOURCE
set -euo pipefail
build=${1:?usage: test_example.sh BUILD_DIR SOURCE_DIR}
fail() { echo "test_example: FAIL: $*" >&2; exit 1; }
tools=$build/tools
dir=$(mktemp -d "${TMPDIR:-/tmp}/swsync-example-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
log=$dir/station.log

"$tools/swsync-example" --help | grep -q '^usage: swsync-example' ||
    fail "--help"
out=$("$tools/swsync-example" "$log") || fail "exit $? writing $log"
[ "$(grep -c '^seq ' <<<"$out")" -eq 4 ] || fail "want 4 frames: $out"
grep -q '^seq 4 checkpoint' <<<"$out" || fail "no checkpoint: $out"

status=0
"$tools/swsync-example" "$log" >/dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "overwrote an existing file (exit $status)"
"$tools/swsync-example" --force --time 1767574800000 "$log" >/dev/null ||
    fail "--force --time"
status=0
"$tools/swsync-example" --force --time 12x "$log" >/dev/null 2>&1 ||
    status=$?
[ "$status" -eq 2 ] || fail "accepted --time 12x (exit $status)"

if [ -x "$tools/swsync-verify" ]; then
    "$tools/swsync-verify" "$log" || fail "swsync-verify refuses the log"
    # Flip one bit in the middle of the file (inside a frame).
    bad=$dir/bad.log
    cp "$log" "$bad"
    at=$(($(stat -c %s "$bad") / 2))
    byte=$(od -An -tu1 -j "$at" -N1 "$bad" | tr -d ' ')
    # shellcheck disable=SC2059 # the format is the octal escape of a byte
    printf "\\$(printf %03o $((byte ^ 1)))" |
        dd of="$bad" bs=1 seek="$at" conv=notrunc status=none
    cmp -s "$log" "$bad" && fail "the damaged copy is unchanged"
    if "$tools/swsync-verify" "$bad" >/dev/null 2>&1; then
        fail "swsync-verify accepts a damaged log"
    fi
else
    echo "test_example: swsync-verify not built, verify checks skipped"
fi
if [ -x "$tools/swsync-dump" ]; then
    "$tools/swsync-dump" "$log" >/dev/null || fail "swsync-dump"
    "$tools/swsync-dump" --json "$log" >/dev/null || fail "swsync-dump --json"
fi
# A failed run (the file size limit: a full disk) leaves no partial log.
part=$dir/partial.log
(trap '' XFSZ; ulimit -f 1; exec "$tools/swsync-example" "$part") \
    >/dev/null 2>"$dir/partial.err" && fail "swsync-example wrote past a 1 KiB file limit"
grep -q "File too large" "$dir/partial.err" || fail "no clear error for a full disk"
[ -e "$part" ] && fail "a failed swsync-example left a partial log"
echo "test_example: ok"
