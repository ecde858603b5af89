#!/usr/bin/env bash
# A station back after a week offline (issue 5, "Measure"): time, bytes and
# HTTPS requests to sync it fully both ways with its county hub, over
# loopback and over a slow, long link emulated by the test proxy
# (tests/support/faultproxy.c --rate-bps/--latency-ms).
#
# usage: bench/bench_offline.sh BUILD [RATE_BPS [LATENCY_MS]]
#   BUILD       the CMake build folder (swsync-agent, swsync-hub,
#               swsync-keys, tests/swsync_test_faultproxy)
#   RATE_BPS    the slow link's bandwidth each way, bits/s (default 100000)
#   LATENCY_MS  its one-way delay (default 300; a round trip costs twice)
#
# The scene: a county hub and one station (tools/demo/tiers.sh). The
# station starts with the demo's records at scale 5 (100 clients, 40
# cases, 150 services...) synced. Then, offline for a week, it records 50
# new clients with 50 new cases and 600 case services
# (bench/offline_backlog.py), while county staff sign 10 changes to its
# cases and one county-wide training in the county's feed. The station
# then runs `swsync-agent sync --seal` once: push of its backlog, pull of
# what the county authored. The scene is saved once and replayed for each
# link, so both runs move the same bytes.
#
# Figures, per link:
#   frames     bytes of the frames themselves (envelopes + bodies: what the
#              station's log grew by, plus what its inbox of the county's
#              feed grew by)
#   wire       bytes through the proxy, both ways (TLS, HTTP and all)
#   requests   HTTPS requests (hello, the feed head, push batches, pulls;
#              from sync's own report) and TCP connections (from the proxy)
#   time       wall time of the sync
#   ratio      wire / frames (goal <= 1.2)
#   bound      1.3 x wire x 8 / RATE + round trips x 2 x LATENCY, where the
#              round trips are each connection's TCP and TLS 1.3 handshakes
#              (2) plus one per request; goal: slow-link time <= bound
set -uo pipefail
BUILD=$(cd "${1:?usage: bench_offline.sh BUILD [RATE_BPS [LATENCY_MS]]}" && pwd) || exit 2
RATE=${2:-100000}
LAT=${3:-300}
[[ $RATE =~ ^[0-9]+$ && $RATE -ge 1000 && $LAT =~ ^[0-9]+$ && $LAT -le 60000 ]] ||
    { echo "bench_offline: RATE_BPS >= 1000, LATENCY_MS <= 60000" >&2; exit 2; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
TIERS_KEYS=$BUILD/tools/swsync-keys
TIERS_AGENT=$BUILD/agent/cli/swsync-agent
TIERS_HUB=$BUILD/agent/hub/swsync-hub
PROXY=$BUILD/tests/swsync_test_faultproxy
for x in "$TIERS_KEYS" "$TIERS_AGENT" "$TIERS_HUB" "$PROXY"; do
    [ -x "$x" ] || { echo "bench_offline: $x not built" >&2; exit 2; }
done
tiers_die() { echo "bench_offline: $*" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/swsync-bench-offline.XXXXXX") || exit 1
TIERS_DIR=$W
. "$SRC/tools/demo/tiers.sh"
PROXY_PID=
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null
    tiers_stop_all
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$W" || exit 1
export SWSYNC_PASSPHRASE_FILE=/nonexistent
A=$TIERS_AGENT
sqlv() { sqlite3 -readonly "$1" "$2" 2>/dev/null; }
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# ---- the scene -----------------------------------------------------------
UNIT=$(python3 -c "import sys; sys.path.insert(0, '$SRC/tools/demo'); \
import gen_records as g; print(g.unit_code(1))")
tiers_tls
tiers_keys 44 440983
tiers_station 1 "$UNIT" https://127.0.0.1:1
tiers_hubconf county county.key cdata 440983
python3 "$SRC/tools/demo/gen_records.py" --station 1 --scale 5 --out base \
    >/dev/null || tiers_die "gen_records"
for f in base/*.csv; do
    t=$(basename "$f" .csv)
    "$A" --dir st1 import "${t#[0-9][0-9]_}" "$f" >/dev/null 2>imp.err ||
        { cat imp.err >&2; tiers_die "import $f"; }
done
tiers_hub county
COUNTY_PID=$HUB_PID PORT=$HUB_PORT
sed -i "s/^port = .*/port = $PORT/" county.conf
# The station reaches the hub through the proxy, always on one port: its
# sync state is kept per hub address.
rm -f proxy.port
"$PROXY" --target "$PORT" --port-file proxy.port &
PROXY_PID=$!
tiers_wait_file proxy.port 100 || tiers_die "the proxy did not start"
PPORT=$(cat proxy.port)
sed -i "s|^hub_url = .*|hub_url = https://127.0.0.1:$PPORT|" st1/station.conf
"$A" --dir st1 sync --seal >sync0.out 2>&1 || { cat sync0.out >&2; tiers_die "first sync"; }
kill "$PROXY_PID" && wait "$PROXY_PID" 2>/dev/null
PROXY_PID=
tiers_stop "$COUNTY_PID"
LOG_BASE=$(size st1/station.log)

STAFF=$(sqlv st1/replica.db "SELECT group_concat(id) FROM staff")
python3 "$HERE/offline_backlog.py" --station 1 --staff "$STAFF" --out week \
    >week.txt || tiers_die "offline_backlog"
for f in week/*.csv; do
    t=$(basename "$f" .csv)
    "$A" --dir st1 import "${t#[0-9][0-9]_}" "$f" >/dev/null 2>imp.err ||
        { cat imp.err >&2; tiers_die "import $f"; }
done
"$A" --dir st1 seal >seal.out 2>&1 || { cat seal.out >&2; tiers_die "seal"; }
# The county's week: 10 changes to the station's cases, one county-wide
# training (its own unit owns it: addressed to every station).
i=0
for c in $(sqlv st1/replica.db "SELECT id FROM cases ORDER BY id LIMIT 10"); do
    lv=$(sqlv st1/replica.db "SELECT risk_level FROM cases WHERE id = '$c'")
    nv=high
    [ "$lv" = high ] && nv=key
    "$TIERS_HUB" change --config county.conf --operator bench-county \
        cases "$c" risk_level=$nv >hub.out 2>&1 || { cat hub.out >&2; tiers_die "county change"; }
    i=$((i + 1))
done
CID=$(python3 -c "import sys; sys.path.insert(0, '$SRC/tools/demo'); \
import gen_records as g; print(g.COUNTY_ID)")
D=$(date -u -d '+14 days' +%F) D2=$(date -u -d '+15 days' +%F)
"$TIERS_HUB" add --config county.conf --operator bench-county trainings \
    owner_unit_id="$CID" title=县级个案督导培训 audience=mixed kind=skills \
    mode=in_person start_date="$D" end_date="$D2" planned_minutes=720 \
    counts_for_ce=1 pass_score=60 >hub.out 2>&1 ||
    { cat hub.out >&2; tiers_die "county training"; }
mkdir snap && cp -a st1 cdata snap/ || tiers_die "snapshot"
printf 'backlog: %s\n' "$(tr '\n' ' ' <week.txt)"
printf 'county-authored for the station: %d changes + 1 county-wide training\n' "$i"

# ---- one run per link ----------------------------------------------------
# run NAME [proxy options]: restores the scene, syncs through the proxy,
# prints the figures.
run() {
    local name=$1
    shift
    rm -rf st1 cdata && cp -a snap/st1 snap/cdata . || tiers_die "restore"
    local inbox0=0 f
    for f in st1/inbox/*.log; do [ -f "$f" ] && inbox0=$((inbox0 + $(size "$f"))); done
    tiers_hub county
    COUNTY_PID=$HUB_PID
    rm -f proxy.port stats.txt
    "$PROXY" --target "$PORT" --port-file proxy.port --stats stats.txt \
        --listen-port "$PPORT" "$@" &
    PROXY_PID=$!
    tiers_wait_file proxy.port 100 || tiers_die "the proxy did not start"
    local t0 t1 out
    t0=$(date +%s%N)
    out=$("$A" --dir st1 sync 2>&1) || { echo "$out" >&2; tiers_die "$name: sync failed"; }
    t1=$(date +%s%N)
    # The proxy writes a connection's byte counts when it closes: bounded.
    local conns=0 k
    for ((k = 0; k < 100; k++)); do
        [ -s stats.txt ] && break
        sleep 0.05
    done
    sleep 0.2 # a second connection's line, if any
    kill "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=
    tiers_stop "$COUNTY_PID"
    conns=$(wc -l <stats.txt)
    local up down inbox1=0
    read -r up down < <(awk '{ u += $1; d += $2 } END { print u + 0, d + 0 }' stats.txt)
    for f in st1/inbox/*.log; do [ -f "$f" ] && inbox1=$((inbox1 + $(size "$f"))); done
    local frames_up=$(($(size st1/station.log) - LOG_BASE))
    local frames_down=$((inbox1 - inbox0))
    local batches pulls
    batches=$(sed -n 's/.* in \([0-9]*\) batch.*/\1/p' <<<"$out" | head -n 1)
    pulls=$(sed -n 's/.*pulled .* in \([0-9]*\) request.*/\1/p' <<<"$out" | head -n 1)
    local requests=$((2 + ${batches:-0} + ${pulls:-0}))
    python3 - "$name" "$up" "$down" "$frames_up" "$frames_down" "$requests" \
        "$conns" "$t0" "$t1" "$RATE" "$LAT" <<'PYEOF'
import sys
name = sys.argv[1]
up, down, fu, fd, req, conns, t0, t1, rate, lat = map(int, sys.argv[2:])
wire, frames = up + down, fu + fd
secs = (t1 - t0) / 1e9
rtts = 2 * conns + req
bound = 1.3 * wire * 8 / rate + rtts * 2 * lat / 1000
print("%-9s frames %7d B (up %d, down %d)  wire %7d B (up %d, down %d)"
      "  ratio %.3f" % (name, frames, fu, fd, wire, up, down, wire / frames))
print("%-9s %d HTTPS requests on %d connection(s), %d round trips;"
      " time %.2f s" % ("", req, conns, rtts, secs))
if name == "slow":
    print("%-9s bound 1.3 x %d B x 8 / %d bit/s + %d x %d ms = %.2f s;"
          " time / bound %.2f" % ("", wire, rate, rtts, 2 * lat, bound,
                                  secs / bound))
PYEOF
    echo "$out" | sed 's/^/          | /'
}

echo "== loopback"
run loopback
echo "== slow link: $RATE bit/s each way, $LAT ms one way"
run slow --rate-bps "$RATE" --latency-ms "$LAT"
