# Shared by tests/test_pull.sh and tests/test_resolve.sh (sourced, after
# BUILD and SRC are set): a county hub's keys under a root, two stations
# certified by it and an uncertified one (stx), the same synthetic records
# at station 1 (a staff member, a client with a category, two cases, an
# assessment), county.conf, and helpers: hub_start, hub_stop, hub_cmd,
# sync_st, val, hub_pin_port, merged, stored, chash. Everything lives in client_env.sh's temporary folder $T.
. "$SRC/tests/support/client_env.sh"
K=$BUILD/tools/swsync-keys
A=$BUILD/agent/cli/swsync-agent
HUB=$BUILD/agent/hub/swsync-hub
AUDIT=$BUILD/tools/swsync-audit
PT=$BUILD/tests/swsync_test_pulltool
for x in "$K" "$A" "$HUB" "$AUDIT" "$PT"; do
    [ -x "$x" ] || fail "$x not built"
done
cd "$T" || fail cd
export SWSYNC_PASSPHRASE_FILE=/nonexistent # keys are unsealed: never asked

echo "== keys: root -> county -> two stations"
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null || fail root
$K new --out county.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject county.key \
    --role county --unit 440983 >/dev/null || fail "certify county"
ROOT=$($K pub root.key)
CK=$($K pub county.key)
mkdir -p cdata
ST=()
for n in 1 2; do
    "$A" --dir "st$n" init --unit "440983102000-0$n" \
        --hub-url https://127.0.0.1:1 --hub-ca "$T/ca.pem" --hub-key "$CK" \
        >init.out 2>&1 || { cat init.out; fail "init station $n"; }
    ST[$n]=$(sed -n 's/^station public key: //p' init.out)
    [ ${#ST[$n]} = 64 ] || fail "no key in init's output for station $n"
    $K certify --issuer county.key --issuer-log cdata/hub.log \
        --certs root.log --subject "${ST[$n]}" --role station \
        --unit "440983102000-0$n" --from "$(date -u -d '-1 day' +%F)" \
        --until "$(date -u -d '+1 year' +%F)" \
        $([ $n = 1 ] && echo --create) >/dev/null 2>>certify.err ||
        fail "certify station $n"
done
# A station key no hub certified (the scope attack's outsider).
"$A" --dir stx init --unit 440983102000-09 --hub-url https://127.0.0.1:1 \
    --hub-ca "$T/ca.pem" --hub-key "$CK" >/dev/null 2>&1 || fail "init stx"

# ---- records (synthetic: valid check digits, no real persons) ---------
UP=0193a000-0000-7000-8000-000000000044
UC=0193a000-0000-7000-8000-000000440983
unit_id() { printf '0193a000-0000-7000-8000-%012d' "$1"; }
resid() { # resident ID with a correct check digit, born 1950-03-0N
    "$PY" - "$1" <<'PYEOF'
import sys
body = "44098319500301%03d" % (100 + 2 * int(sys.argv[1]) + 1)
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
s = sum(int(c) * x for c, x in zip(body, w)) % 11
print(body + "10X98765432"[s])
PYEOF
}
for n in 1 2; do
    cat >orgs.csv <<EOF
id,level,parent_id,name,unit_code,division_code,division_code_year,status
$UP,provincial_hub,,测试省中心,44,440000,2024,active
$UC,county_hub,$UP,测试县中心,440983,440983,2024,active
$(unit_id 1),station,$UC,测试镇社工站1,440983102000-01,440983102000,2024,active
$(unit_id 2),station,$UC,测试镇社工站2,440983102000-02,440983102000,2024,active
EOF
    "$A" --dir "st$n" import org_units orgs.csv >/dev/null 2>err ||
        { cat err; fail "import org units at station $n"; }
done
add() { # add DIR TABLE col=value...: prints the new id
    local d=$1
    shift
    "$A" --dir "$d" add "$@" 2>add.err || { cat add.err >&2; return 1; }
}
SW=$(add st1 staff name=测试社工 gender=female id_type=none \
    role=social_worker employment=direct_hire start_date=2024-01-01) ||
    fail "add staff"
CL=$(add st1 clients name=测试老人 gender=male birth_date=1950-03-01 \
    id_type=resident_id id_number="$(resid 1)" village_code=440983102001) ||
    fail "add client"
CAT=$(add st1 client_categories client_id="$CL" category=elderly_alone \
    start_date=2025-01-01 source=screening verified=1) || fail "add category"
CASE=$(add st1 cases client_id="$CL" worker_id="$SW" \
    case_no=440983102000-01-2025-A-0001 opened_on=2025-01-05 \
    consent_by=self source=outreach stage=intake risk_level=general) ||
    fail "add case"
ASM=$(add st1 case_assessments case_id="$CASE" assessor_id="$SW" \
    assessed_on=2025-01-06 kind=initial needs='["economic"]' \
    risk_level=general) || fail "add assessment"
CASE2=$(add st1 cases client_id="$CL" worker_id="$SW" \
    case_no=440983102000-01-2024-A-0009 opened_on=2024-02-05 \
    consent_by=self source=outreach stage=intake risk_level=general) ||
    fail "add a second case"

# ---- helpers -----------------------------------------------------------
cat >county.conf <<EOC
listen = 127.0.0.1
port = 0
tls_cert = $T/hub.pem
tls_key = $T/hub.key
hub_key = county.key
data = cdata
root_key = $ROOT
trust_log = root.log
unit = 440983
connection_timeout = 5
shutdown_grace = 2
max_push_frames = 16
EOC
HUB_PID=
hub_start() {
    rm -f county.port
    "$HUB" --config county.conf --port-file county.port 2>>county.err &
    HUB_PID=$!
    PIDS+=("$HUB_PID")
    wait_file county.port
    HUB_PORT=$(cat county.port)
}
hub_stop() { # SIGTERM; the hub stops cleanly with 0 (ASan: no leaks)
    kill "$HUB_PID" 2>/dev/null
    wait "$HUB_PID"
    local rc=$?
    [ $rc = 0 ] || { tail -20 county.err; fail "hub exit $rc at stop"; }
}
hub_cmd() { # swsync-hub change/add/transfer with the hub stopped
    "$HUB" "$@" --config county.conf >hubcmd.out 2>hubcmd.err ||
        { cat hubcmd.out hubcmd.err; return 1; }
}
sync_st() { # sync_st DIR: sync --seal; output in sync.out
    "$A" --dir "$1" sync --seal >sync.out 2>&1 ||
        { cat sync.out; fail "$1: sync"; }
}
val() { # val DIR SQL
    sqlite3 -readonly "$1/replica.db" "$2" 2>/dev/null
}
hub_pin_port() { # hub_pin_port DIR...: after the first hub_start, restarts
    # keep its port, and the stations DIR... are pointed at it
    echo "port = $HUB_PORT" >>county.conf
    local d
    for d in "$@"; do
        sed -i "s|^hub_url = .*|hub_url = https://127.0.0.1:$HUB_PORT|" \
            "$d/station.conf"
    done
}
merged() { # the county replica's merged leaves (_hub_state)
    sqlite3 -readonly cdata/replica.db "SELECT leaves FROM _hub_state" \
        2>/dev/null
}
stored() { # the leaves hub.db holds
    sqlite3 -readonly cdata/hub.db \
        "SELECT count(*) FROM node WHERE level = 0" 2>/dev/null
}
chash() { # the county replica's content hash
    "$HUB" content-hash --config county.conf 2>chash.err ||
        { cat chash.err; fail "content-hash"; }
}
