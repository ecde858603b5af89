#!/bin/bash
# swsync-audit over a clean three-tier archive and twelve tamper scenarios:
# each detected with the right kind of finding and nothing else flagged
# (spec/SECURITY.md §8). $1 = build directory, $2 = source directory.
set -u
BUILD=${1:?build dir}
AUDIT=$BUILD/tools/swsync-audit
MK=$BUILD/tests/swsync_test_mkarchive
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-audit-XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:print_stacktrace=1"

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
sanitizer_check() {
    if grep -qE "Sanitizer|runtime error" "$1"; then
        fail "$2: sanitizer report"
        head -20 "$1" | sed 's/^/    /'
    fi
}

# audit NAME WANT_RC [ARGS...]: audit archive $T/NAME (ledgers given) with
# --json into $T/NAME.json; checks the exit status.
audit() {
    local name=$1 want=$2
    shift 2
    local d=$T/$name
    "$AUDIT" --json --root "$ROOT" --ledger "$d/county/ledger.log" \
        --ledger "$d/province/ledger.log" "$@" "$d" \
        >"$T/$name.json" 2>"$T/$name.err"
    local rc=$?
    sanitizer_check "$T/$name.err" "$name"
    [ "$rc" -eq "$want" ] || { fail "$name: exit $rc, expected $want";
        head -20 "$T/$name.json" "$T/$name.err" | sed 's/^/    /'; }
}
# kinds NAME: the sorted finding kinds of $T/NAME.json, space-separated.
kinds() {
    grep '"type":"finding"' "$T/$1.json" | grep -o '"kind":"[a-z_]*"' |
        sed 's/"kind":"\(.*\)"/\1/' | sort | tr '\n' ' ' | sed 's/ $//'
}
# field NAME KIND KEY: KEY of the first finding of KIND ("" when none);
# evidence.KEY for the evidence's fields. Values are numbers or strings
# without quotes inside (file names here are plain).
field() {
    local line key=$3
    line=$(grep "\"kind\":\"$2\"" "$T/$1.json" | head -1)
    case $key in
    evidence.*) line=${line#*\"evidence\":}; key=${key#evidence.} ;;
    *) line=${line%%\"evidence\":*} ;;
    esac
    printf '%s\n' "$line" | grep -o "\"$key\":[^,}]*" | head -1 |
        sed 's/^"[a-z_]*"://; s/^"//; s/"$//'
}

# scenario NAME WANT_KINDS: make the archive, audit it, compare the kinds.
scenario() {
    local name=$1 want=$2 rc=1
    [ -z "$want" ] && rc=0
    ROOT=$("$MK" "$T/$name" "$name") || { fail "$name: generator failed"; return; }
    audit "$name" "$rc"
    local got
    got=$(kinds "$name")
    [ "$got" = "$want" ] || { fail "$name: findings [$got], expected [$want]";
        head -20 "$T/$name.json" | sed 's/^/    /'; }
}

scenario clean ""
scenario byte-changed "altered"
scenario frame-removed "order"
scenario frames-swapped "order"
scenario hub-altered "altered altered"
scenario cp-drops-receipted "receipt_dropped"
scenario cp-inconsistent "checkpoint_inconsistent"
scenario wrong-issuer "wrong_issuer"
scenario after-revocation "revoked"
scenario expired-cert "expired"
scenario after-rotation "after_rotation"
scenario replayed-bundle ""
scenario backup-fork "fork"
scenario fork-short "fork"
scenario fork-in-file "fork"
scenario backdated "revoked"
scenario receipt-dropped "fork receipt_dropped"
scenario receipt-bad "receipt_invalid"
scenario unit-mismatch "unit_code"
scenario cert-unit "unit_code"

# The details a reader needs: codes, feeds' seq ranges, evidence.
[ "$(field byte-changed altered code)" = SWLOG_EHASH ] ||
    fail "byte-changed: not SWLOG_EHASH"
[ "$(field hub-altered altered code)" = SWLOG_ESIG ] ||
    fail "hub-altered: not SWLOG_ESIG"
[ "$(field frames-swapped order seq)-$(field frames-swapped order seq_last)" = 4-6 ] ||
    fail "frames-swapped: range not 4-6"
[ "$(field after-revocation revoked seq)-$(field after-revocation revoked seq_last)" = 5-8 ] ||
    fail "after-revocation: range not 5-8"
# seq 5 claims a time before the cut, but the county checkpointed it after
# (SECURITY §5 step 5); 6-8 claim times after it.
[ "$(field backdated revoked seq)-$(field backdated revoked seq_last)" = 5-8 ] ||
    fail "backdated: range not 5-8 (seen time not applied?)"
[ "$(field expired-cert expired seq)" = 6 ] || fail "expired-cert: not from seq 6"
[ "$(field after-rotation after_rotation seq)" = 6 ] ||
    fail "after-rotation: not from seq 6"
case "$(field backup-fork fork file) $(field backup-fork fork evidence.file)" in
*stations/s-006.log*county/ledger.log* | *county/ledger.log*stations/s-006.log*) ;;
*) fail "backup-fork: evidence does not name both files" ;;
esac
[ "$(field backup-fork fork seq)-$(field backup-fork fork seq_last)" = 6-8 ] ||
    fail "backup-fork: range not 6-8"
# The station's copy ends at 7, the hubs' at 8: compared at 7, located at 6.
[ "$(field fork-short fork seq)-$(field fork-short fork seq_last)" = 6-7 ] ||
    fail "fork-short: range not 6-7"
case "$(field fork-short fork file) $(field fork-short fork evidence.file)" in
*stations/s-006.log*county/ledger.log*) ;;
*) fail "fork-short: evidence does not name both files" ;;
esac
[ "$(field fork-in-file fork seq)" = 6 ] || fail "fork-in-file: not seq 6"
case "$(field fork-in-file fork file)" in
*bundle-fork.log) ;;
*) fail "fork-in-file: not in the bundle" ;;
esac
case "$(field wrong-issuer wrong_issuer evidence.file)" in
*province/ledger.log) ;;
*) fail "wrong-issuer: the province's certificate is not the evidence" ;;
esac
[ "$(field cp-drops-receipted receipt_dropped seq)" = 14 ] ||
    fail "cp-drops-receipted: not the county's checkpoint seq 14"

# Station 1's stored receipts (stations/s-001.db): all eight proven in a
# clean archive; the damaged proof of seq 4 named; the county's rewritten
# history shown by the checkpoint the station holds.
grep -q '"receipts":8,"receipts_proven":8' "$T/clean.json" ||
    fail "clean: receipts not all proven"
[ "$(field receipt-bad receipt_invalid seq)" = 4 ] || fail "receipt-bad: not seq 4"
case "$(field receipt-bad receipt_invalid file)" in
*stations/s-001.db) ;;
*) fail "receipt-bad: not the station's replica" ;;
esac
case "$(field receipt-dropped receipt_dropped file) $(field receipt-dropped fork evidence.file)" in
*stations/s-001.db*county/ledger.log) ;;
*) fail "receipt-dropped: not the station's checkpoint against the ledger's" ;;
esac

# Unit codes: the station's records from round 3, named by table, column
# and row, never by value; the county's certificate of station 3.
[ "$(field unit-mismatch unit_code seq)" = 3 ] || fail "unit-mismatch: not seq 3"
grep '"kind":"unit_code"' "$T/unit-mismatch.json" | grep -q 'cases.*case_no' ||
    fail "unit-mismatch: table and column not named"
grep -q '4401-05-2026' "$T/unit-mismatch.json" && fail "unit-mismatch: value shown"
grep '"kind":"unit_code"' "$T/cert-unit.json" | grep -q '4402-03.*4401' ||
    fail "cert-unit: the two unit codes not named"

# The ledger's hub named explicitly: the same finding; another key named:
# none of its checkpoints, nothing compared.
COUNTY=$(field cp-inconsistent checkpoint_inconsistent feed)
d=$T/cp-inconsistent
"$AUDIT" --json --root "$ROOT" --ledger "$COUNTY:$d/county/ledger.log" "$d" \
    >"$T/named.json" 2>&1
[ $? -eq 1 ] || fail "named hub: exit not 1"
[ "$(kinds named)" = checkpoint_inconsistent ] || fail "named hub: [$(kinds named)]"
"$AUDIT" --json --root "$ROOT" --ledger "$ROOT:$d/county/ledger.log" "$d" \
    >"$T/named.json" 2>&1
[ $? -eq 0 ] || fail "ledger of another hub: not clean"

# Without --ledger the checkpoints cannot be recomputed: their sizes only
# grow, so the inconsistent one passes (the ledger is what proves it).
"$AUDIT" --root "$ROOT" "$T/cp-inconsistent" >"$T/out" 2>&1
[ $? -eq 0 ] || fail "without ledgers: not clean"
grep -q "0 recomputed" "$T/out" || fail "without ledgers: recomputed?"

# A wrong root key: nothing is authorised.
OTHER=$(printf '%064d' 7)
"$AUDIT" --json --root "$OTHER" "$T/clean/root.log" >"$T/other.json" 2>&1
[ $? -eq 1 ] || fail "wrong root: exit not 1"
grep -q '"kind":"no_certificate"' "$T/other.json" || fail "wrong root: no finding"

# Words, HTML and exit codes.
ROOT=$("$MK" "$T/clean2" clean)
"$AUDIT" --root "$ROOT" --html "$T/r.html" "$T/frame-removed" >"$T/out" 2>&1
[ $? -eq 1 ] || fail "text report: exit not 1"
grep -q "^1 problem:" "$T/out" || fail "text report: no problem count"
grep -q "offset" "$T/out" || fail "text report: no offset"
grep -q "<!DOCTYPE html>" "$T/r.html" || fail "html: not written"
grep -q "Feed out of order" "$T/r.html" || fail "html: finding missing"
grep -qE "<(script|link|img)" "$T/r.html" && fail "html: external or active content"
mkdir -p "$T/odd<b>&"
cp "$T/clean2/root.log" "$T/odd<b>&/x.log"
"$AUDIT" --root "$ROOT" --html "$T/odd.html" "$T/odd<b>&" >/dev/null 2>&1
grep -q "odd&lt;b&gt;&amp;" "$T/odd.html" || fail "html: file name not escaped"
grep -q "odd<b>" "$T/odd.html" && fail "html: raw markup from a file name"

"$AUDIT" --help >"$T/out" 2>&1; [ $? -eq 0 ] || fail "--help: exit"
grep -q "Exit status" "$T/out" || fail "--help: no exit codes"
"$AUDIT" "$T/clean" >/dev/null 2>&1; [ $? -eq 3 ] || fail "no --root: exit not 3"
"$AUDIT" --root 12 "$T/clean" >/dev/null 2>&1; [ $? -eq 3 ] || fail "bad --root: not 3"
"$AUDIT" --root "$ROOT" --bogus "$T/clean" >/dev/null 2>&1
[ $? -eq 3 ] || fail "unknown option: exit not 3"
"$AUDIT" --root "$ROOT" "$T/clean2/root.log" "$T/missing.log" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "missing file: exit not 2"
grep -q "could not be read" "$T/out" || fail "missing file: not said"

# trace: the row's four records, the concurrent edit and its resolution.
"$AUDIT" trace 00000000-0000-7000-8000-00000000abcd --root "$ROOT" \
    "$T/clean2" >"$T/trace" 2>"$T/trace.err"
[ $? -eq 0 ] || fail "trace: exit"
sanitizer_check "$T/trace.err" trace
grep -q "4 records" "$T/trace" || fail "trace: not 4 records"
[ "$(grep -c 'CONFLICT' "$T/trace")" -eq 2 ] || fail "trace: conflict not shown twice"
grep -q "resolved by" "$T/trace" || fail "trace: resolution not shown"
grep -q '"note' "$T/trace" && fail "trace: values shown without --values"
"$AUDIT" trace 00000000-0000-7000-8000-00000000abcd --values --root "$ROOT" \
    "$T/clean2" >"$T/trace" 2>&1
grep -q '= "note' "$T/trace" || fail "trace --values: values not shown"
"$AUDIT" trace 00000000-0000-7000-8000-00000000abcd --json --root "$ROOT" \
    "$T/clean2" >"$T/trace.json" 2>&1
[ "$(grep -c '"type":"trace"' "$T/trace.json")" -eq 4 ] || fail "trace --json"
grep -q '"conflict":true' "$T/trace.json" || fail "trace --json: no conflict"
"$AUDIT" trace not-a-uuid --root "$ROOT" "$T/clean2" >/dev/null 2>&1
[ $? -eq 3 ] || fail "trace: bad row id not exit 3"

if [ "$fails" -ne 0 ]; then
    echo "$fails failure(s)"
    exit 1
fi
echo "all audit tests passed"
