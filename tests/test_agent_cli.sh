#!/usr/bin/env bash
# swsync-agent, the station's command line, driven as a worker would
# (agent/README.md "Command line"): init, add/change/show/list/remove with
# validation refusals that write nothing, a write through the sqlite3 shell,
# seal, history, status (text and JSON), export checked by swsync-verify,
# and --help of every command. Synthetic data only.
# Usage: test_agent_cli.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
A=$BUILD/agent/cli/swsync-agent
VERIFY=$BUILD/tools/swsync-verify
[ -x "$A" ] || { echo "no $A"; exit 1; }
[ -x "$VERIFY" ] || { echo "no $VERIFY"; exit 1; }
command -v sqlite3 >/dev/null || { echo "no sqlite3 shell"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-agent-cli-XXXXXX")
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
unset SWSYNC_DIR SWSYNC_PASSPHRASE_FILE

fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok - $1"; }
bad() {
    checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $1"
}
# run WANT DESC CMD...: stdout in out.txt, stderr in err.txt; exit code.
run() {
    local want=$1 desc=$2
    shift 2
    "$@" >out.txt 2>err.txt
    local got=$?
    if [ "$got" -eq "$want" ]; then
        ok "$desc (exit $got)"
    else
        bad "$desc: exit $got, wanted $want"
        sed 's/^/    /' out.txt err.txt
    fi
}
has() {
    if grep -qF -- "$2" "$1"; then ok "$3"; else
        bad "$3: '$2' not in $1:"; sed 's/^/    /' "$1"
    fi
}
hasnt() {
    if grep -qF -- "$2" "$1"; then bad "$3: '$2' in $1"; else ok "$3"; fi
}
same() {
    if [ "$1" = "$2" ]; then ok "$3"; else bad "$3: '$1' != '$2'"; fi
}
q() { sqlite3 "$S/replica.db" "$1"; }
# json FILE EXPR: evaluate a Python expression over the JSON object j.
json() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

S=$T/station
export SWSYNC_DIR=$S

# ---- --help ------------------------------------------------------------
run 0 "swsync-agent --help" "$A" --help
has out.txt "Exit codes" "main help lists exit codes"
cmds=$(awk '/^  [a-z-]+ /{print $1}' out.txt)
[ -n "$cmds" ] || bad "no commands in --help"
for c in $cmds; do
    run 0 "$c --help" "$A" "$c" --help
    has out.txt "usage: swsync-agent" "$c --help prints its usage"
done
run 2 "no command" "$A"
run 2 "unknown command" "$A" frobnicate

# ---- init --------------------------------------------------------------
run 2 "init without --unit" "$A" init
run 2 "init with a county code as the unit" "$A" init --unit 440983
has err.txt "440983102000-01" "the unit error shows the form"
printf 'not a certificate\n' >bad.pem
run 2 "init with a CA that is not PEM" "$A" init --unit 440983102000-01 \
    --hub-url https://127.0.0.1:8443 --hub-ca bad.pem
[ ! -e "$S" ] && ok "a refused init leaves no folder" || bad "folder left"
run 2 "init with an http:// hub" "$A" init --unit 440983102000-01 \
    --hub-url http://127.0.0.1:8080 --hub-ca bad.pem

run 0 "init" "$A" init --unit 440983102000-01 --operator 王芳
has out.txt "station public key:" "init prints the public key"
has out.txt "swsync-keys certify" "init tells the next step"
PK=$(sed -n 's/^station public key: //p' out.txt)
same "${#PK}" 64 "public key is 64 hex digits"
same "$(stat -c %a "$S")" 700 "folder mode 0700"
same "$(stat -c %a "$S/station.key")" 600 "key file mode 0600"
[ -f "$S/replica.db" ] && ok "replica created" || bad "no replica.db"
has "$S/station.conf" "unit = 440983102000-01" "station.conf names the unit"
has "$S/station.conf" "operator = 王芳" "station.conf names the operator"
cp "$S/station.key" key.before
run 2 "init refuses an initialised folder" "$A" init --unit 440983102000-01
has err.txt "already" "the refusal says why"
cmp -s key.before "$S/station.key" && ok "key file unchanged" ||
    bad "key file changed by a refused init"
run 0 "status in a fresh folder" "$A" status
has out.txt "nothing sealed yet" "fresh status: nothing sealed"

# A station with a hub and a sealed key file.
if openssl req -x509 -newkey ed25519 -nodes -keyout ca.key -out ca.pem \
    -days 2 -subj /CN=swsync-test-ca >/dev/null 2>&1; then :; else
    printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' >ca.pem
fi
export STPW='station passphrase for the test'
run 0 "init with a hub and a sealed key" "$A" --dir "$T/hubbed" init \
    --unit 440983102000-02 --hub-url https://127.0.0.1:8443 --hub-ca ca.pem \
    --hub-key "$(printf 'ab%.0s' $(seq 32))" --passphrase-env STPW
cmp -s ca.pem "$T/hubbed/hub-ca.pem" && ok "CA copied into the folder" ||
    bad "hub-ca.pem differs"
has "$T/hubbed/station.conf" "hub_url = https://127.0.0.1:8443" "hub_url kept"

# ---- add ---------------------------------------------------------------
add() { "$A" add "$@" >out.txt 2>err.txt; echo $? >rc.txt; cat out.txt; }
P=$(add org_units level=provincial_hub name=测试省中心 unit_code=44 \
    division_code=440000 division_code_year=2024 status=active)
same "$(cat rc.txt)" 0 "add the province unit"
C=$(add org_units level=county_hub parent_id="$P" name=测试县中心 \
    unit_code=440983 division_code=440983 division_code_year=2024 status=active)
same "$(cat rc.txt)" 0 "add the county unit"
U=$(add org_units level=station parent_id="$C" name=测试镇社工站 \
    unit_code=440983102000-01 division_code=440983102000 \
    division_code_year=2024 status=active)
same "$(cat rc.txt)" 0 "add the station's own unit"
W=$(add staff name=李明 gender=male id_type=resident_id \
    id_number=440983195003070034 birth_date=1950-03-07 role=social_worker \
    employment=direct_hire start_date=2020-01-01 --operator 李明)
same "$(cat rc.txt)" 0 "add a social worker (owner defaults to the station)"
same "$(q "SELECT owner_unit_id FROM staff WHERE id='$W'")" "$U" \
    "owner_unit_id defaulted to the station's unit"
K=$(add clients name=张三 gender=female birth_date=1949-12-31 \
    id_type=resident_id id_number="1101 0519 4912 3100 2x" \
    village_code=440983102201 phone="138-0013-8000" phone_owner=self)
same "$(cat rc.txt)" 0 "add a client"
same "$(q "SELECT id_number, phone FROM clients WHERE id='$K'")" \
    "11010519491231002X|+8613800138000" "ID number and phone normalised"
same "$(q "SELECT operator FROM _sw_outbox WHERE row_id='$W'")" "李明" \
    "--operator recorded on the change"
same "$(q "SELECT operator FROM _sw_outbox WHERE row_id='$K'")" "王芳" \
    "station.conf operator recorded by default"

clients0=$(q "SELECT count(*) FROM clients")
outbox0=$(q "SELECT count(*) FROM _sw_outbox")
run 3 "bad resident ID check digit refused" "$A" add clients name=赵六 \
    gender=male birth_date=1950-03-07 id_type=resident_id \
    id_number=440983195003070035 village_code=440983102201
has err.txt "clients.id_number: V1" "the refusal names column and rule"
hasnt err.txt "440983195003070035" "the refusal never shows the ID number"
hasnt err.txt "赵六" "the refusal never shows the name"
same "$(q "SELECT count(*) FROM clients")" "$clients0" "no client written"
same "$(q "SELECT count(*) FROM _sw_outbox")" "$outbox0" "nothing captured"
run 3 "several problems, each reported" "$A" add clients gender=x \
    birth_date=1950-02-30 id_type=resident_id village_code=440983102201
n=$(grep -c "error:" err.txt)
[ "$n" -ge 3 ] && ok "every problem printed ($n)" || bad "only $n problems"
run 3 "integer column parsed strictly" "$A" add org_units level=station \
    parent_id="$C" name=x unit_code=440983102000-03 \
    division_code=440983102000 division_code_year=2024x status=active
has err.txt "division_code_year must be an integer" "says which column"
run 2 "unknown table" "$A" add clientz name=x
has err.txt "clients" "unknown table lists the tables"
run 2 "unknown column" "$A" add clients nmae=x
has err.txt "village_code" "unknown column lists the columns"
run 2 "not COLUMN=VALUE" "$A" add clients name=测试 11010519491231002X
has err.txt "value 2 is not COLUMN=VALUE" "says which argument"
hasnt err.txt "11010519491231002X" "without echoing it"
run 2 "id may not be given" "$A" add clients id=01a2068a-d565-72a3-9147-5de8c008640b
same "$(q "SELECT count(*) FROM _sw_outbox")" "$outbox0" \
    "refused commands captured nothing"

# ---- change ------------------------------------------------------------
run 0 "change one column" "$A" change clients "$K" hukou=rural
same "$(q "SELECT hukou FROM clients WHERE id='$K'")" rural "value changed"
# hukou is declared column 12 of clients (agent/schema.c): bit 12 alone.
same "$(q "SELECT mask FROM _sw_outbox WHERE row_id='$K' AND kind=2")" 4096 \
    "the update captured hukou only"
upd=$(q "SELECT count(*) FROM _sw_outbox WHERE row_id='$K' AND kind=2")
same "$upd" 1 "one update captured"
run 0 "change to empty makes NULL" "$A" change clients "$K" phone= phone_owner=
same "$(q "SELECT phone IS NULL AND phone_owner IS NULL FROM clients WHERE id='$K'")" 1 \
    "phone and phone_owner are NULL"
run 3 "change refused by validation" "$A" change clients "$K" gender=male
has err.txt "V1" "sex digit rule against the changed gender"
same "$(q "SELECT gender FROM clients WHERE id='$K'")" female "row unchanged"
run 2 "change of an unknown id" "$A" change clients \
    01a2068a-0000-7000-8000-000000000000 hukou=urban
has err.txt "no clients record" "unknown id said clearly"

# ---- show / list -------------------------------------------------------
run 0 "show" "$A" show clients "$K"
has out.txt "11010519491231002X" "show prints every column (own terminal)"
run 0 "show --json" "$A" show clients "$K" --json
same "$(json out.txt 'j["name"]')" 张三 "show --json parses"
run 0 "list" "$A" list clients
has out.txt "$K" "list shows the id"
has out.txt "gender=female" "list shows plain columns"
hasnt out.txt "11010519491231002X" "list hides the ID number"
hasnt out.txt "张三" "list hides the name"
run 0 "list --where on a sensitive column" "$A" list clients \
    --where id_number=11010519491231002X --json
same "$(wc -l <out.txt)" 1 "--where found the one client"
same "$(json out.txt '"id_number" in j')" False "list --json hides it too"
run 0 "list --limit" "$A" list org_units --limit 2
same "$(wc -l <out.txt)" 2 "--limit 2 prints two"
run 2 "list --limit x" "$A" list org_units --limit x

# ---- remove ------------------------------------------------------------
run 3 "remove a unit others refer to" "$A" remove org_units "$U"
has err.txt "clients" "the refusal names the referring table"
X=$(add clients name=钱七 gender=male birth_date=2010-01-01 \
    id_type=resident_id id_number=44098320100101001X village_code=440983102201 \
    guardian_name=钱大 guardian_relation=parent guardian_phone=13900139000)
if [ "$(cat rc.txt)" -ne 0 ]; then sed 's/^/    /' err.txt; fi
same "$(cat rc.txt)" 0 "add a minor with a guardian"
run 0 "remove" "$A" remove clients "$X"
same "$(q "SELECT count(*) FROM clients WHERE id='$X'")" 0 "row gone"
same "$(q "SELECT count(*) FROM _sw_outbox WHERE row_id='$X' AND kind=3")" 1 \
    "delete captured"
run 2 "remove an unknown id" "$A" remove clients "$X"

# ---- a write through the sqlite3 shell, seal, history --------------------
q "UPDATE clients SET living='alone', hukou='urban' WHERE id='$K'"
pending=$(q "SELECT count(*) FROM _sw_outbox")
run 0 "status --json before seal" "$A" status --json
cp out.txt st1.json
same "$(json st1.json 'j["pending"]')" "$pending" "status counts pending"
same "$(json st1.json 'j["sync"]')" "{'feeds': []}" "sync: no feed synced yet"
same "$(json st1.json 'j["feed"]["head_seq"]')" 0 "nothing sealed yet"
run 0 "seal" "$A" seal
has out.txt "sealed $pending records" "seal reports the records"
HEAD=$(sed -n 's/^head: seq \([0-9]*\).*/\1/p' out.txt)
# A change-set has one author (FORMAT §5.1), entries go in HLC order:
# 王芳 (units), 李明 (staff), 王芳 (clients), direct (the shell).
same "$HEAD" 4 "seal reports the head: a change-set per run of one author"
run 0 "seal again" "$A" seal
has out.txt "nothing to seal" "nothing pending after a seal"
run 0 "history" "$A" history "$K"
has out.txt "by direct" "the shell's write is authored 'direct'"
has out.txt "hukou = \"urban\"" "plain value shown"
has out.txt "living = (changed)" "sensitive value hidden"
has out.txt "name = (changed)" "personal value hidden"
has out.txt "by 王芳" "the CLI's write carries the operator"
hasnt out.txt "张三" "no name without --reveal"
has out.txt "signer ${PK:0:16}" "signer shown as short key"
run 0 "history --reveal" "$A" history "$K" --reveal
has out.txt "张三" "--reveal shows the name"
run 0 "history --json" "$A" history "$K" --json
python3 -c '
import json,sys
rows=[json.loads(l) for l in open("out.txt")]
kinds=[r["kind"] for r in rows]
assert kinds==["upsert"]*len(kinds) and len(rows)>=4, kinds
last=rows[-1]
assert last["author"]=="direct", last
names=sorted(c["name"] for c in last["columns"])
assert names==["hukou","living"], names
assert [c for c in last["columns"] if c["name"]=="living"][0]["hidden"]
' && ok "history --json: the shell update changed hukou and living only" ||
    bad "history --json content"
run 0 "history of the removed client" "$A" history "$X" --json
same "$(json <(tail -n1 out.txt) 'j["kind"]')" delete "the delete is in history"
run 2 "history of a non-id" "$A" history 12345

# ---- status ------------------------------------------------------------
run 0 "status" "$A" status
has out.txt "pending:  0 changes" "status: nothing pending"
has out.txt "head:     seq $HEAD" "status: head"
has out.txt "no hub is configured" "status: hub not configured"
has out.txt "Sync" "status has a place for sync"
run 0 "status --json" "$A" status --json
same "$(json out.txt 'j["feed"]["next_seq"]')" $((HEAD + 1)) \
    "status --json next_seq"
same "$(json out.txt 'j["ok"]')" True "status --json ok"
chmod 644 "$S/station.key"
run 1 "status with a readable key file" "$A" status --json
same "$(json out.txt '[p["code"] for p in j["problems"] if p["severity"]=="error"]')" \
    "['key']" "the key problem is reported"
run 1 "seal refuses a key others may read" "$A" seal
has err.txt "chmod 600" "seal says what to do"
run 0 "add still works (writing needs no key)" "$A" add org_units \
    level=station parent_id="$C" name=测试镇社工站二 \
    unit_code=440983102000-02 division_code=440983102000 \
    division_code_year=2024 status=active
chmod 600 "$S/station.key"
run 0 "seal the added unit" "$A" seal
HEAD=$((HEAD + 1))

# An interrupted seal: the reservation a crash after step 1 leaves behind
# (agent/README.md "Sealing"), made by hand: the pending entries reserved
# as the next seq, next_seq moved past it.
q "UPDATE clients SET living='spouse_only' WHERE id='$K'"
q "BEGIN;
   INSERT INTO _sw_inflight(seq, signer, lo, hi, count, frame_hlc, sv, author)
   SELECT f.next_seq, f.signer, s.sealed_upto,
          (SELECT max(hlc) FROM _sw_outbox),
          (SELECT count(*) FROM _sw_outbox WHERE hlc > s.sealed_upto),
          (SELECT max(hlc) FROM _sw_outbox) + 1, 1, 'direct'
   FROM _sw_feed f, _sw_state s;
   UPDATE _sw_feed SET next_seq = next_seq + 1;
   COMMIT;"
run 0 "status shows the unfinished seal" "$A" status
has out.txt "a seal was interrupted: 1 change-set (seq $((HEAD + 1))" \
    "status explains the unfinished seal"
run 0 "status --json unfinished_seal" "$A" status --json
same "$(json out.txt 'j["unfinished_seal"]["records"]')" 1 \
    "the shell's write reserved"
run 0 "seal finishes the interrupted seal" "$A" seal
has out.txt "finished an interrupted seal: 1 change-set" "seal says so"
has out.txt "nothing to seal" "nothing else pending"
HEAD=$((HEAD + 1))
run 0 "the log verifies after recovery" "$VERIFY" "$S/station.log"

# A torn tail: half a frame at the end of the log.
q "UPDATE clients SET hukou='rural' WHERE id='$K'"
printf '\x00\x00\x01\x00\x81' >>"$S/station.log"
run 0 "status with a torn tail" "$A" status --json
[ "$(json out.txt 'j["feed"]["torn_bytes"]')" -gt 0 ] &&
    ok "torn tail reported" || bad "torn tail not reported"
run 0 "seal cuts the torn tail" "$A" seal
run 0 "the log verifies" "$VERIFY" "$S/station.log"

# A log behind the replica (station.log lost).
cp -a "$S" "$T/lost"
rm "$T/lost/station.log"
run 1 "status: log behind the replica" "$A" --dir "$T/lost" status
has out.txt "station.log lost" "status explains the disagreement"
run 1 "seal refuses a log behind the replica" "$A" --dir "$T/lost" seal

# ---- progress line: on a terminal only ----------------------------------
q "UPDATE clients SET hukou='urban' WHERE id='$K'"
if command -v script >/dev/null; then
    script -qec "$A seal" /dev/null >tty.txt 2>&1
    has tty.txt "sealing: 1 / 1" "a progress line on a terminal"
    HEAD=$((HEAD + 1))
else
    run 0 "seal" "$A" seal
    HEAD=$((HEAD + 1))
fi
q "UPDATE clients SET hukou='rural' WHERE id='$K'"
run 0 "seal off a terminal" "$A" seal
hasnt err.txt "sealing:" "no progress line off a terminal"
HEAD=$((HEAD + 1))

# ---- export ------------------------------------------------------------
run 0 "export" "$A" export --out "$T/bundle.swlog"
LAST=$((HEAD + 1))
has out.txt "exported seq 1..$LAST" "export reports the seqs"
run 0 "the bundle verifies" "$VERIFY" "$T/bundle.swlog"
has out.txt "$LAST frames" "every frame in the bundle"
run 2 "export never overwrites" "$A" export --out "$T/bundle.swlog"
run 0 "export --from $LAST --force" "$A" export --out "$T/bundle.swlog" \
    --from $LAST --force
run 0 "the second bundle verifies" "$VERIFY" "$T/bundle.swlog"
has out.txt "1 frames" "one frame from seq $LAST"
run 1 "export past the end" "$A" export --out "$T/none.swlog" \
    --from $((LAST + 1))
[ ! -e "$T/none.swlog" ] && ok "no file when nothing exported" ||
    bad "empty bundle left"
ls "$T"/*.tmp* >/dev/null 2>&1 && bad "temp files left" ||
    ok "no temp files left"

# ---- the station with a sealed key --------------------------------------
H=$T/hubbed
"$A" --dir "$H" add org_units level=provincial_hub name=测试省中心 \
    unit_code=44 division_code=440000 division_code_year=2024 \
    status=active >/dev/null 2>&1
printf '%s\n' "$STPW" >pw.txt
chmod 600 pw.txt
SWSYNC_PASSPHRASE_FILE=$T/pw.txt run 0 "seal with a sealed key" \
    "$A" --dir "$H" seal </dev/null
printf 'not-it-7c1e\n' >wrong.txt
"$A" --dir "$H" add org_units level=provincial_hub name=测试省中心二 \
    unit_code=44 division_code=440000 division_code_year=2024 \
    status=active >/dev/null 2>&1
SWSYNC_PASSPHRASE_FILE=$T/wrong.txt run 1 "seal with a wrong passphrase" \
    "$A" --dir "$H" seal </dev/null
hasnt err.txt "not-it-7c1e" "the passphrase is never echoed"
run 0 "status of the hubbed station" "$A" --dir "$H" status --json
same "$(json out.txt 'j["hub"]["url"]')" https://127.0.0.1:8443 "hub in status"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
