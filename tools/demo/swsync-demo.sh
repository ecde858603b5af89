#!/usr/bin/env bash
# The swsync demo (`./run demo`, README "The demo"): a provincial hub, a
# county hub and three township stations as real processes on 127.0.0.1
# over HTTPS, with freshly made TLS certificates and signing keys. The
# stations are filled with synthetic records (tools/demo/gen_records.py:
# made-up people, valid resident ID numbers of one county), seal and sync
# to the county, which relays to the province; the auditor's tools check
# the province's data; a summary ends it. The hubs are stopped on exit,
# or left running with --keep.
#
# usage: swsync-demo.sh --build DIR [--dir DIR] [--keep] [--scale K]
#   --build DIR  the CMake build folder holding swsync (./run builds it)
#   --dir DIR    work in DIR (made; must be empty or absent) and keep its
#                files; default: a temporary folder, removed at the end
#                unless --keep
#   --keep       leave the hubs running and the folder in place; prints
#                how to stop them (DIR/stop.sh)
#   --scale K    K times the records per station (1..5, default 1)
# The last lines are the summary, `key: value` (tests/test_demo.sh reads
# them; DIR/summary.txt holds the same). Exit 0 when the province holds
# every record made and the audit found nothing.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD="" WORK="" KEEP=0 SCALE=1 OWN_DIR=0
while [ $# -gt 0 ]; do
    case $1 in
        --build) BUILD=${2:?--build needs a folder}; shift 2 ;;
        --dir) WORK=${2:?--dir needs a folder}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --scale) SCALE=${2:?--scale needs a number}; shift 2 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "swsync-demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ $SCALE =~ ^[1-5]$ ]] || { echo "swsync-demo: --scale 1..5" >&2; exit 2; }
[ -n "$BUILD" ] || { echo "swsync-demo: --build DIR is required" >&2; exit 2; }
BUILD=$(cd "$BUILD" && pwd) || exit 2

say() { printf '\n==> %s   [%ds]\n' "$*" "$SECONDS"; }
tiers_die() {
    echo "swsync-demo: $*" >&2
    exit 1
}
TIERS_KEYS=$BUILD/tools/swsync-keys
TIERS_AGENT=$BUILD/agent/cli/swsync-agent
TIERS_HUB=$BUILD/agent/hub/swsync-hub
VERIFY=$BUILD/tools/swsync-verify
AUDIT=$BUILD/tools/swsync-audit
for x in "$TIERS_KEYS" "$TIERS_AGENT" "$TIERS_HUB" "$VERIFY" "$AUDIT"; do
    [ -x "$x" ] || tiers_die "$x is not built (cmake --build $BUILD)"
done
for x in openssl sqlite3 python3 curl; do
    command -v "$x" >/dev/null || tiers_die "$x is missing (./run installs it)"
done

if [ -z "$WORK" ]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/swsync-demo.XXXXXX") ||
        tiers_die "cannot make a temporary folder"
    OWN_DIR=1
else
    mkdir -p "$WORK" || tiers_die "cannot make $WORK"
    [ -z "$(ls -A "$WORK")" ] || tiers_die "$WORK is not empty"
fi
WORK=$(cd "$WORK" && pwd)
chmod 700 "$WORK"
TIERS_DIR=$WORK
. "$HERE/tiers.sh"

cleanup() {
    if [ "$KEEP" = 1 ]; then
        return
    fi
    tiers_stop_all
    [ "$OWN_DIR" = 1 ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK" || exit 1
# The demo's keys are plain files (swsync-keys new without a passphrase):
# nothing asks for one.
export SWSYNC_PASSPHRASE_FILE=/nonexistent

PROVINCE=44 COUNTY=440983
unit_of() { python3 -c "import sys; sys.path.insert(0, '$HERE'); \
import gen_records as g; print(g.unit_code($1))"; }

# ---- 1. keys, certificates, stations -----------------------------------
setup_pki() {
    say "keys: a root for province $PROVINCE; it certifies the province and county $COUNTY"
    tiers_tls
    tiers_keys "$PROVINCE" "$COUNTY"
    echo "root key ${TIERS_ROOT:0:16}…  province ${TIERS_PK:0:16}…  county ${TIERS_CK:0:16}…"
    say "three stations (swsync-agent init), certified by the county"
    local n
    for n in 1 2 3; do
        UNIT[$n]=$(unit_of "$n")
        tiers_station "$n" "${UNIT[$n]}" https://127.0.0.1:1
        echo "station $n: unit ${UNIT[$n]}, key ${TIERS_ST[$n]:0:16}…"
    done
}

# ---- 2. hubs -----------------------------------------------------------
start_hubs() {
    say "hubs: province and county on 127.0.0.1 (free ports), the county relaying up"
    tiers_hubconf prov prov.key pdata "$PROVINCE"
    tiers_hub prov
    PROV_PID=$HUB_PID PROV_PORT=$HUB_PORT
    tiers_hubconf county county.key cdata "$COUNTY" \
        "upstream_url = https://127.0.0.1:$PROV_PORT" \
        "upstream_ca = tls/ca.pem" "upstream_key = $TIERS_PK" \
        "relay_interval = 1"
    tiers_hub county
    COUNTY_PID=$HUB_PID COUNTY_PORT=$HUB_PORT
    echo "province: https://127.0.0.1:$PROV_PORT (pid $PROV_PID)"
    echo "county:   https://127.0.0.1:$COUNTY_PORT (pid $COUNTY_PID)"
    local n
    for n in 1 2 3; do
        sed -i "s|^hub_url = .*|hub_url = https://127.0.0.1:$COUNTY_PORT|" \
            "st$n/station.conf"
    done
}

# ---- 3. records ----------------------------------------------------------
fill_stations() {
    say "records: synthetic, made up (tools/demo/gen_records.py), imported as CSV"
    local n f t out
    for n in 1 2 3; do
        python3 "$HERE/gen_records.py" --station "$n" --scale "$SCALE" \
            --out "csv$n" >"csv$n.txt" || tiers_die "gen_records station $n"
        for f in "csv$n"/*.csv; do
            t=$(basename "$f" .csv)
            t=${t#[0-9][0-9]_}
            out=$("$TIERS_AGENT" --dir "st$n" import "$t" "$f" 2>&1) || {
                echo "$out" >&2
                tiers_die "station $n: import $t refused"
            }
        done
        echo "station $n: $(awk '{ s += $2 } END { print s }' "csv$n.txt") rows" \
            "($(tr '\n' ' ' <"csv$n.txt" | sed 's/ $//; s/\([a-z_]*\) \([0-9]*\)/\2 \1/g; s/ \([0-9]\)/, \1/g'))"
    done
}

# ---- 4. up: seal and push to the county ----------------------------------
sync_up() {
    say "up: each station seals and syncs to the county (swsync-agent sync --seal)"
    local n out
    for n in 1 2 3; do
        out=$("$TIERS_AGENT" --dir "st$n" sync --seal 2>&1) || {
            echo "$out" >&2
            tiers_die "station $n: sync --seal failed"
        }
        echo "station $n: $(grep -m1 -i 'acknowledges' <<<"$out" ||
            tail -n 1 <<<"$out")"
    done
}

# ---- 5. down: the county's changes reach the stations ---------------------
# County staff author changes through the county hub (PROTOCOL §10): the
# hub signs them in its own feed, addressed to the station owning the rows,
# and the stations pull them with `swsync-agent sync`. Authoring needs the
# hub's data folder to itself, so the county hub is stopped for it and
# started again on the same port. Two things happen:
# - a transfer: case B of station 1 moves to station 2 (the case, its
#   client and child rows; station 1 learns the new owner once);
# - a concurrent edit: station 1 and the county both change the
#   risk_level of case A, neither having seen the other's edit. Both
#   replicas pick the same winner (MERGE §3) and record the conflict for
#   review (MERGE §5).
sqlv() { sqlite3 -readonly "$1" "$2" 2>/dev/null; }
sync_down() {
    say "down: the county transfers a case and edits another while station 1 edits it too"
    local u1 case_a case_b out n
    u1=$(sqlv st1/replica.db "SELECT id FROM org_units WHERE unit_code = '${UNIT[1]}'")
    case_a=$(sqlv st1/replica.db "SELECT id FROM cases WHERE owner_unit_id = '$u1' AND stage <> 'closed' ORDER BY id LIMIT 1")
    case_b=$(sqlv st1/replica.db "SELECT id FROM cases WHERE owner_unit_id = '$u1' AND id <> '$case_a' ORDER BY id LIMIT 1")
    [ -n "$case_a" ] && [ -n "$case_b" ] || tiers_die "station 1 has no two cases to work with"
    # Station 1 and the county each set a level case A does not have yet
    # (an update to the same value is no change and is not captured).
    local cur v v_st="" v_cty=""
    cur=$(sqlv st1/replica.db "SELECT risk_level FROM cases WHERE id = '$case_a'")
    for v in general key high; do
        [ "$v" = "$cur" ] && continue
        if [ -z "$v_st" ]; then v_st=$v; else v_cty=$v; fi
    done
    # Station 1 edits case A; it does not sync yet.
    out=$("$TIERS_AGENT" --dir st1 change cases "$case_a" risk_level="$v_st" --operator demo-worker 2>&1) ||
        { echo "$out" >&2; tiers_die "station 1: change of case A refused"; }
    echo "station 1: case A risk level changed locally (not synced yet)"
    tiers_stop "$COUNTY_PID"
    sed -i "s/^port = .*/port = $COUNTY_PORT/" county.conf
    out=$("$TIERS_HUB" change --config county.conf --operator demo-county \
        cases "$case_a" risk_level="$v_cty" 2>&1) ||
        { echo "$out" >&2; tiers_die "county: change of case A refused"; }
    echo "county: case A risk level changed (signed in the county's feed, for station 1)"
    out=$("$TIERS_HUB" transfer --config county.conf --operator demo-county \
        "$case_b" --to "${UNIT[2]}" 2>&1) ||
        { echo "$out" >&2; tiers_die "county: transfer of case B refused"; }
    echo "county: case B transferred from station 1 to station 2"
    tiers_hub county
    COUNTY_PID=$HUB_PID
    [ "$HUB_PORT" = "$COUNTY_PORT" ] || tiers_die "the county hub came back on port $HUB_PORT, not $COUNTY_PORT"
    for n in 1 2 3; do
        out=$("$TIERS_AGENT" --dir "st$n" sync --seal 2>&1) || {
            echo "$out" >&2
            tiers_die "station $n: sync (push and pull) failed"
        }
        echo "station $n: $(grep -m1 -i 'pull' <<<"$out" || tail -n 1 <<<"$out")"
    done
    local u2 own2 own1 cf_st cf_hub w_st w_hub
    u2=$(sqlv st2/replica.db "SELECT id FROM org_units WHERE unit_code = '${UNIT[2]}'")
    own2=$(sqlv st2/replica.db "SELECT owner_unit_id FROM cases WHERE id = '$case_b'")
    own1=$(sqlv st1/replica.db "SELECT owner_unit_id FROM cases WHERE id = '$case_b'")
    [ "$own2" = "$u2" ] || tiers_die "station 2 does not hold the transferred case"
    [ "$own1" = "$u2" ] || tiers_die "station 1 did not learn the case's new owner"
    TRANSFER_RESULT=ok
    echo "transfer: station 2 holds case B with its client; station 1 sees station 2 as its owner"
    cf_st=$(sqlv st1/replica.db "SELECT count(*) FROM _sw_conflicts WHERE tbl = 'cases' AND row_id = '$case_a' AND col = 'risk_level'")
    cf_hub=$(sqlv cdata/replica.db "SELECT count(*) FROM _sw_conflicts WHERE tbl = 'cases' AND row_id = '$case_a' AND col = 'risk_level'")
    w_st=$(sqlv st1/replica.db "SELECT risk_level FROM cases WHERE id = '$case_a'")
    w_hub=$(sqlv cdata/replica.db "SELECT risk_level FROM cases WHERE id = '$case_a'")
    [ "${cf_st:-0}" -ge 1 ] && [ "${cf_hub:-0}" -ge 1 ] ||
        tiers_die "the concurrent edit was not recorded as a conflict (station $cf_st, county $cf_hub)"
    [ "$w_st" = "$w_hub" ] || tiers_die "station 1 and the county picked different winners"
    CASE_A=$case_a W_A=$w_hub
    echo "concurrent edit: one conflict recorded at station 1 and at the county, the same winner at both"
}

# province_view: after the relay, the province holds the same winner and
# the same conflict (it merged the same change-sets: MERGE "Convergence").
province_view() {
    local cf w
    cf=$(sqlv pdata/replica.db "SELECT count(*) FROM _sw_conflicts WHERE tbl = 'cases' AND row_id = '$CASE_A' AND col = 'risk_level'")
    w=$(sqlv pdata/replica.db "SELECT risk_level FROM cases WHERE id = '$CASE_A'")
    if [ "${cf:-0}" -ge 1 ] && [ "$w" = "$W_A" ]; then
        CONFLICT_RESULT=ok
        echo "province: the same conflict and the same winner for case A"
    else
        echo "province: conflict $cf, winner differs or missing" >&2
    fi
}

# own_head: frames in the county's own feed file (its certificates and
# checkpoints; a hub's own feed has no head row in its store).
own_head() {
    "$VERIFY" --json cdata/hub.log 2>/dev/null | python3 -c '
import json, sys
print([json.loads(l) for l in sys.stdin][-1]["frames"])' 2>/dev/null
}

# ---- 6. relay: wait until the province holds what the county holds -------
wait_relay() {
    say "relay: the county forwards every feed to the province"
    local i feeds=("${TIERS_ST[1]}" "${TIERS_ST[2]}" "${TIERS_ST[3]}") f done_
    local until_=$((SECONDS + 30))
    # Bounded in time and in count (each round runs a few processes).
    for ((i = 0; i < 300 && SECONDS < until_; i++)); do
        done_=1
        for f in "${feeds[@]}"; do
            [ "$(tiers_head pdata "$f")" = "$(tiers_head cdata "$f")" ] &&
                [ "$(tiers_head cdata "$f")" != 0 ] || done_=0
        done
        [ "$(tiers_head pdata "$TIERS_CK")" = "$(own_head)" ] || done_=0
        [ $done_ = 1 ] && break
        sleep 0.1
    done
    [ $done_ = 1 ] || tiers_die "the province did not catch up within 30 s (see county.err)"
    for f in "${feeds[@]}" "$TIERS_CK"; do
        echo "feed ${f:0:16}…: seq $(tiers_head pdata "$f") at the province"
    done
}

# ---- 7. the auditor's view ----------------------------------------------
audit() {
    say "swsync-verify over the province's feed files"
    VERIFY_RESULT=ok
    "$VERIFY" --quiet pdata/feeds/*.log pdata/hub.log >verify.out 2>&1 ||
        VERIFY_RESULT=failed
    cat verify.out
    echo "swsync-verify: $VERIFY_RESULT ($(ls pdata/feeds/*.log | wc -l) feed files and the province's own log)"
    say "swsync-audit: trust chain to the root, hub checkpoints against the province's ledger"
    "$TIERS_HUB" ledger --config prov.conf --out pledger.log >ledger.out 2>&1 ||
        { cat ledger.out; tiers_die "swsync-hub ledger"; }
    AUDIT_RESULT=ok
    "$AUDIT" --json --root "$TIERS_ROOT" --ledger "$TIERS_PK:pledger.log" \
        root.log pdata >audit.out 2>&1 || AUDIT_RESULT=failed
    grep -q '"type":"finding"' audit.out && AUDIT_RESULT=failed
    AUDIT_PROBLEMS=$(python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
s = [x for x in s if x.get("type") == "summary"]
print(s[-1].get("problems", "?") if s else "?")' audit.out)
    [ "$AUDIT_PROBLEMS" = 0 ] || AUDIT_RESULT=failed
    echo "swsync-audit: $AUDIT_RESULT, $AUDIT_PROBLEMS problem(s)"
    [ "$AUDIT_RESULT" = ok ] || tail -n 20 audit.out
}

# count_records: distinct record ids over the three stations' replicas
# (rows made; the province and county rows each station writes count once)
# and rows in the province's replica, over the tables of the generator.
count_records() {
    python3 - st1/replica.db st2/replica.db st3/replica.db pdata/replica.db <<'PYEOF'
import sqlite3, sys
tables = ["org_units", "staff", "clients", "cases", "case_services",
          "volunteers", "volunteer_activities", "volunteer_services",
          "trainings", "training_enrollments"]
def ids(path):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    out = set()
    for t in tables:
        out |= {(t, r[0]) for r in db.execute('SELECT id FROM "%s"' % t)}
    db.close()
    return out
made = set()
for p in sys.argv[1:4]:
    made |= ids(p)
prov = ids(sys.argv[4])
print(len(made), len(prov), len(made & prov))
PYEOF
}

frames_of() {
    sqlite3 -readonly "$1/hub.db" "SELECT count(*) FROM frame" 2>/dev/null
}

summary() {
    local made prov both
    read -r made prov both < <(count_records) || tiers_die "counting records"
    STATION_PAGE=https://127.0.0.1:$COUNTY_PORT/stations
    {
        echo "stations: 3"
        echo "records made: $made"
        echo "records at province: $prov"
        echo "records made and at province: $both"
        echo "frames at county: $(frames_of cdata)"
        echo "frames at province: $(frames_of pdata)"
        echo "transfer: ${TRANSFER_RESULT:-failed}"
        echo "concurrent edit: ${CONFLICT_RESULT:-failed}"
        echo "verify: $VERIFY_RESULT"
        echo "audit: $AUDIT_RESULT"
        echo "county station page: $STATION_PAGE"
    } >summary.txt
    say "summary"
    cat summary.txt
    OK=0
    [ "$made" = "$prov" ] && [ "$made" = "$both" ] && [ "$made" -gt 0 ] &&
        [ "$VERIFY_RESULT" = ok ] && [ "$AUDIT_RESULT" = ok ] &&
        [ "${TRANSFER_RESULT:-}" = ok ] && [ "${CONFLICT_RESULT:-}" = ok ] || OK=1
}

keep_or_stop() {
    if [ "$KEEP" = 1 ]; then
        printf '#!/bin/sh\n# Stop the demo hubs (started by swsync-demo.sh --keep).\nkill %s 2>/dev/null\n' \
            "${TIERS_PIDS[*]}" >stop.sh
        chmod +x stop.sh
        say "the hubs keep running (--keep)"
        echo "open $STATION_PAGE (the demo CA: $WORK/tls/ca.pem), e.g."
        echo "  curl --cacert $WORK/tls/ca.pem $STATION_PAGE"
        echo "stop them with: $WORK/stop.sh   (kill ${TIERS_PIDS[*]})"
    else
        tiers_stop_all
        if [ "$OWN_DIR" = 1 ]; then
            echo "hubs stopped, $WORK removed; with --keep the hubs keep" \
                "running and the station page can be opened"
        else
            echo "hubs stopped"
        fi
    fi
}

UNIT=()
setup_pki
start_hubs
fill_stations
sync_up
sync_down
wait_relay
province_view
audit
summary
keep_or_stop
[ "$OWN_DIR" = 1 ] && [ "$KEEP" = 0 ] ||
    echo "the demo's files: $WORK"
exit "$OK"
