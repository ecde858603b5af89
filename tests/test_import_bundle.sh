#!/usr/bin/env bash
# swsync-agent import-bundle end to end: one folder plays the county hub
# (it writes and seals records, then exports them as a bundle), a station
# whose station.conf names that key as hub_key imports the bundle; twice
# is a no-op; a damaged copy, an untrusted signer and a station without
# hub_key are refused and change nothing. Synthetic data only.
# Usage: test_import_bundle.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
A=$BUILD/agent/cli/swsync-agent
[ -x "$A" ] || { echo "no $A"; exit 1; }
command -v sqlite3 >/dev/null || { echo "no sqlite3 shell"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-import-bundle-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
unset SWSYNC_DIR SWSYNC_PASSPHRASE_FILE

fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok - $1"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $1"; }
run() {
    local want=$1 desc=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local got=$?
    if [ "$got" -eq "$want" ]; then ok "$desc (exit $got)"; else
        bad "$desc: exit $got, wanted $want"; sed 's/^/    /' out.txt err.txt
    fi
}
has() {
    if grep -qF -- "$2" "$1"; then ok "$3"; else
        bad "$3: '$2' not in $1:"; sed 's/^/    /' "$1"
    fi
}
same() { if [ "$1" = "$2" ]; then ok "$3"; else bad "$3: '$1' != '$2'"; fi; }
key_of() { sed -n 's/^station public key: //p' out.txt; }

run 0 "init the hub's folder" "$A" --dir "$T/hub" init --unit 440983102000-01
HUBKEY=$(key_of)
run 0 "init a stranger" "$A" --dir "$T/other" init --unit 440983102000-02
run 0 "init the station with hub_key" "$A" --dir "$T/st" init \
    --unit 440983102000-03 --hub-key "$HUBKEY"
run 0 "init a station without hub_key" "$A" --dir "$T/nokey" init \
    --unit 440983102000-04

for who in hub other; do
    run 0 "$who adds a unit" "$A" --dir "$T/$who" add org_units \
        level=provincial_hub name=测试省中心 unit_code=44 \
        division_code=440000 division_code_year=2024 status=active
    run 0 "$who seals" "$A" --dir "$T/$who" seal
    run 0 "$who exports" "$A" --dir "$T/$who" export --out "$T/$who.swb"
done

q() { sqlite3 "$T/st/replica.db" "$1"; }
run 0 "import the hub's bundle" "$A" --dir "$T/st" import-bundle "$T/hub.swb"
has out.txt "1 new" "one new frame"
has out.txt "1 change-set merged" "its change-set merged"
same "$(q 'SELECT count(*) FROM org_units')" 1 "the hub's row is here"
same "$(q 'SELECT count(*) FROM _sw_outbox')" 0 "nothing to send back"
[ -f "$T/st/inbox/$HUBKEY.log" ] && ok "frame kept in inbox/" ||
    bad "no inbox/$HUBKEY.log"
H1=$(q 'SELECT group_concat(id || name) FROM org_units')
run 0 "history of the imported row" "$A" --dir "$T/st" history \
    "$(q 'SELECT id FROM org_units')"
has out.txt "inbox/$HUBKEY.log seq 1" "history reads the frame from inbox/"

run 0 "import it again" "$A" --dir "$T/st" import-bundle "$T/hub.swb"
has out.txt "0 new, 1 already imported" "second import is a no-op"
same "$(q 'SELECT group_concat(id || name) FROM org_units')" "$H1" \
    "content unchanged"

cp "$T/hub.swb" "$T/flip.swb"
# Flip byte 100 (writing a fixed value is no damage when the byte has it).
b=$(od -An -tu1 -j 100 -N1 "$T/flip.swb" | tr -d ' ')
# shellcheck disable=SC2059 # the format is the octal escape of a byte
printf "\\$(printf %03o $((b ^ 1)))" |
    dd of="$T/flip.swb" bs=1 seek=100 conv=notrunc status=none
cmp -s "$T/hub.swb" "$T/flip.swb" && { echo "FAIL: flip.swb unchanged"; exit 1; }
run 1 "a station without hub_key refuses bundles" "$A" --dir "$T/nokey" import-bundle \
    "$T/flip.swb"
has err.txt "hub_key" "no hub_key: the message says what to set"
run 1 "a damaged bundle is refused" "$A" --dir "$T/st" import-bundle \
    "$T/flip.swb"
has err.txt "flip.swb: offset 32" "the message names the file and offset"
run 1 "a stranger's bundle is refused" "$A" --dir "$T/st" import-bundle \
    "$T/other.swb"
has err.txt "not trusted" "the message says why"
same "$(q 'SELECT count(*) FROM org_units')" 1 "refusals changed nothing"
run 2 "no file named" "$A" --dir "$T/st" import-bundle
run 0 "--help" "$A" import-bundle --help
has out.txt "Exit codes" "--help lists the exit codes"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
