#!/bin/bash
# Sealing with the real binaries: swsync_test_sealer is SIGKILLed during
# seals of growing outboxes, restarted, and the log is then checked by the
# auditor (swsync-verify) against the outbox's count of committed writes.
# $1 = build directory, $2 = source directory.
set -u
BUILD=${1:?build dir}
SEALER=$BUILD/tests/swsync_test_sealer
VERIFY=$BUILD/tools/swsync-verify
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-sealer-XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
RANDOM=${SEAL_SH_SEED:-$$}
echo "seed $RANDOM"
for i in $(seq 1 12); do
    "$SEALER" "$T/r.db" "$T/r.log" --write 4000 >/dev/null ||
        fail "write $i"
    "$SEALER" "$T/r.db" "$T/r.log" --seal >"$T/out.$i" 2>&1 &
    pid=$!
    sleep "0.$(printf %03d $((RANDOM % 400)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
cat "$T"/out.* | sort | uniq -c
"$SEALER" "$T/r.db" "$T/r.log" --seal >"$T/final" 2>&1 ||
    { cat "$T/final"; fail "final seal"; }
cat "$T/final"
"$VERIFY" "$T/r.log" >"$T/verify" 2>&1 || { cat "$T/verify"; fail "verify"; }
cat "$T/verify"
grep -qE ", 48000 records, .*: valid" "$T/verify" ||
    fail "the log does not hold exactly the 48000 committed writes"
# Sealing again adds nothing.
"$SEALER" "$T/r.db" "$T/r.log" --seal | grep -qF "sealed 0 records" ||
    fail "a second seal sealed something"
echo "sealer crash run passed"
