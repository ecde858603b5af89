#!/usr/bin/env bash
# swsync-agent template and import through the binary: a template written
# and never overwritten, a good file imported (also from stdin) under an
# operator, a file with one bad line refused whole with FILE:LINE: column:
# messages and exit 3, usage errors exit 2. Usage: test_csv_cli.sh BUILD SRC
set -euo pipefail
build=${1:?usage: test_csv_cli.sh BUILD_DIR SOURCE_DIR}
agent=$build/agent/cli/swsync-agent
work=$(mktemp -d "${TMPDIR:-/tmp}/swsync-csv-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "test_csv_cli: $*" >&2; exit 1; }
expect_rc() { # expect_rc CODE COMMAND...
    local want=$1 rc=0
    shift
    "$@" >"$work/out" 2>"$work/err" || rc=$?
    [ "$rc" = "$want" ] ||
        fail "exit $rc, expected $want: $* ($(cat "$work/err"))"
}
q() { sqlite3 "$work/st/replica.db" "$1"; }

# A station folder made by hand (init is another command): station.conf and
# an empty replica file, which the agent creates the tables in.
mkdir "$work/st"
printf 'unit = 440983102000-01\n' >"$work/st/station.conf"
: >"$work/st/replica.db"
export SWSYNC_DIR=$work/st

expect_rc 0 "$agent" import --help
grep -q 'FILE:LINE: column' "$work/out" || fail "import --help"
expect_rc 0 "$agent" template --help
expect_rc 2 "$agent" import clients
expect_rc 2 "$agent" import nosuch "$work/x.csv"
expect_rc 2 "$agent" template nosuch
expect_rc 1 "$agent" import clients "$work/missing.csv"

# The template: BOM, header, guide; never written over a file.
expect_rc 0 "$agent" template clients --out "$work/t.csv"
head -c 30 "$work/t.csv" | grep -q $'^\xef\xbb\xbfid,owner_unit_id,name' ||
    fail "template header"
grep -q '^# clients' "$work/t.csv" || fail "template guide line"
expect_rc 1 "$agent" template clients --out "$work/t.csv"
grep -q 'File exists' "$work/err" || fail "template overwrite message"

owner=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b
cat >"$work/units.csv" <<EOF
id,level,name,unit_code,division_code,division_code_year,status
$owner,provincial_hub,P,44,440000,2024,active
EOF
expect_rc 0 "$agent" import org_units "$work/units.csv"
grep -q 'imported 1 org_units rows' "$work/out" ||
    fail "units: $(cat "$work/out")"

# The template filled: its two lines, then rows under the header.
{
    cat "$work/t.csv"
    printf ',%s,Li Hua,male,1950-03-07,,resident_id,4409 8319 5003 0700 34' \
        "$owner"
    printf ',,138 1234 5678,self,440983102201,,,,,,,,,\r\n'
    printf ',%s,Zhao,unknown,1990-01-01,,none,,,,,440983102201,,,,,,,,,\r\n' \
        "$owner"
} >"$work/good.csv"
expect_rc 0 "$agent" import clients - --operator bob <"$work/good.csv"
grep -q 'imported 2 clients rows from stdin' "$work/out" ||
    fail "good: $(cat "$work/out")"
[ "$(q "SELECT count(*) FROM clients")" = 2 ] || fail "2 clients"
[ "$(q "SELECT count(*) FROM _sw_outbox WHERE tbl = 'clients' AND
        operator = 'bob'")" = 2 ] || fail "outbox operator"
[ "$(q "SELECT phone FROM clients WHERE name = 'Li Hua'")" = \
    "+8613812345678" ] || fail "phone not normalised"

# 200 good lines and a bad one on file line 102: nothing written, exit 3.
{
    echo "owner_unit_id,name,gender,birth_date,id_type,village_code"
    for i in $(seq 1 200); do
        if [ "$i" = 101 ]; then
            echo "$owner,Secret Person,female,1950-02-30,none,440983102201"
        fi
        echo "$owner,P$i,female,1950-01-01,none,440983102201"
    done
} >"$work/bad.csv"
outbox=$(q "SELECT count(*) FROM _sw_outbox")
expect_rc 3 "$agent" import clients "$work/bad.csv"
grep -q "^$work/bad.csv:102: birth_date: V7 not a calendar date" \
    "$work/err" || fail "bad line message: $(cat "$work/err")"
grep -q 'nothing imported' "$work/err" || fail "summary"
if grep -q 'Secret\|1950-02-30' "$work/err"; then
    fail "a personal value in the messages"
fi
[ "$(q "SELECT count(*) FROM clients")" = 2 ] || fail "bad file wrote rows"
[ "$(q "SELECT count(*) FROM _sw_outbox")" = "$outbox" ] ||
    fail "bad file wrote the outbox"

# The same rows without the bad line: all 200 in.
grep -v Secret "$work/bad.csv" >"$work/fixed.csv"
expect_rc 0 "$agent" import clients "$work/fixed.csv"
[ "$(q "SELECT count(*) FROM clients")" = 202 ] || fail "fixed file"
# --update: a file naming id and phone changes one row; without --update
# the same file is refused (required columns missing), and a full row
# with an existing id too.
li=$(q "SELECT id FROM clients WHERE name = 'Li Hua'")
printf 'id,phone\n%s,139 0000 1111\n' "$li" >"$work/upd.csv"
expect_rc 3 "$agent" import clients "$work/upd.csv"
grep -q 'upd.csv:1: owner_unit_id: required column missing' "$work/err" ||
    fail "header without --update: $(cat "$work/err")"
{
    echo "id,owner_unit_id,name,gender,birth_date,id_type,village_code"
    echo "$li,$owner,Li Hua,male,1950-03-07,none,440983102201"
} >"$work/again.csv"
expect_rc 3 "$agent" import clients "$work/again.csv"
grep -q 'again.csv:2: id: a clients row with this id exists already' \
    "$work/err" || fail "existing id: $(cat "$work/err")"
expect_rc 0 "$agent" import clients "$work/upd.csv" --update
grep -q 'imported 0 clients rows from .*, updated 1' "$work/out" ||
    fail "update: $(cat "$work/out")"
[ "$(q "SELECT phone || ' ' || name FROM clients WHERE id = '$li'")" = \
    "+8613900001111 Li Hua" ] || fail "update wrote the wrong columns"
echo "test_csv_cli: ok"
