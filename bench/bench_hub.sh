#!/bin/bash
# Hub ingest over real HTTPS on 127.0.0.1 (issue 4 "Measure"): makes a
# root, a county hub key and STATIONS+1 station keys with swsync-keys, a TLS
# certificate with openssl, starts swsync-hub with default limits on a
# fresh data folder, and runs bench_hub (bench/bench_hub.c says what it
# measures: plain SQLite inserts as the baseline, one station's ingest with
# receipts verified, STATIONS stations at once, bytes per record against
# CouchDB-style JSON). Every run starts from an empty hub.
# usage: bench/bench_hub.sh BUILD_DIR [bench_hub options: --changesets N
#        --stations S --station-changesets M --batch B --records R
#        --random-ids]
# Exit status: bench_hub's (1 when the hub answered any error) or 1 when
# the hub did not start or did not stop cleanly on SIGTERM.
set -eu
B=$(cd "${1:?build dir}" && pwd)
shift
K=$B/tools/swsync-keys
HUB=$B/agent/hub/swsync-hub
BH=$B/bench/bench_hub
NST=64
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    [ "${args[$i]}" = --stations ] && NST=${args[$((i + 1))]}
done
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-bench-hub-XXXXXX")
HUBPID=
cleanup() {
    if [ -n "$HUBPID" ]; then kill -9 "$HUBPID" 2>/dev/null || true; fi
    # BENCH_HUB_KEEP=DIR: keep the hub's data folder there (inspection).
    if [ -n "${BENCH_HUB_KEEP:-}" ]; then cp -r "$T/data" "$BENCH_HUB_KEEP"; fi
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null
$K new --out hub.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject hub.key \
    --role county --unit 4401 >/dev/null
mkdir -p data
for ((n = 0; n <= NST; n++)); do
    $K certify --issuer hub.key --issuer-log data/hub.log --certs root.log \
        --subject "$($BH pub $((1000 + n)))" --role station \
        --unit "$(printf '4401-%03d' "$n")" $([ $n = 0 ] && echo --create) \
        >/dev/null
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout tls.key -out tls.crt -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
chmod 600 tls.key
cat >hub.conf <<CONF
listen = 127.0.0.1
port = 0
tls_cert = tls.crt
tls_key = tls.key
hub_key = hub.key
data = data
root_key = $($K pub root.key)
trust_log = root.log
unit = 4401
CONF
"$HUB" --config hub.conf --port-file port 2>hub.err &
HUBPID=$!
for _ in $(seq 100); do
    [ -s port ] && break
    kill -0 "$HUBPID" 2>/dev/null || { cat hub.err >&2; exit 1; }
    sleep 0.1
done
[ -s port ] || { echo "bench_hub.sh: hub did not start" >&2; exit 1; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(df -h . | tail -1 | awk '{print $1}')"
# BENCH_HUB_PERF=FILE: perf record -g of the hub during the run (profiling;
# BENCH_HUB_PERF_FREQ=HZ, default 499; BENCH_HUB_PERF_STACK=BYTES of stack
# a sample, default 16384, up to 65528 for whole SQLite call chains).
PERFPID=
if [ -n "${BENCH_HUB_PERF:-}" ]; then
    perf record --call-graph dwarf,${BENCH_HUB_PERF_STACK:-16384} -F "${BENCH_HUB_PERF_FREQ:-499}" -o "$BENCH_HUB_PERF" -p "$HUBPID" 2>/dev/null &
    PERFPID=$!
    sleep 1
fi
rc=0
"$BH" run --url "https://127.0.0.1:$(cat port)" --ca tls.crt \
    --hub-key "$($K pub hub.key)" --dir "$T" "$@" || rc=$?
if [ -n "$PERFPID" ]; then kill -INT "$PERFPID"; wait "$PERFPID" || true; fi
# The hub's CPU time over the whole run (all phases; with --stations 0
# only the one station's ingest): steadier than rates on a shared machine.
read -r -a st <"/proc/$HUBPID/stat"
tck=$(getconf CLK_TCK)
echo "  hub CPU: $(awk -v u="${st[13]}" -v s="${st[14]}" -v t="$tck" \
    'BEGIN { printf "%.2f s user + %.2f s system", u / t, s / t }')"
# How many batches the pushes made (pushes arriving together share one).
if command -v curl >/dev/null; then
    curl -sS --cacert tls.crt "https://127.0.0.1:$(cat port)/metrics" \
        >metrics.txt 2>/dev/null || true
    nb=$(awk '$1 == "swsync_hub_batches_total" { print $2 }' metrics.txt)
    np=$(awk '$1 == "swsync_hub_pushes_total" { print $2 }' metrics.txt)
    [ -n "$nb" ] && [ -n "$np" ] &&
        echo "  hub batches: $nb for $np pushes"
fi
kill -TERM "$HUBPID"
for _ in $(seq 300); do kill -0 "$HUBPID" 2>/dev/null || break; sleep 0.1; done
hrc=0
wait "$HUBPID" || hrc=$?
HUBPID=
if [ "$hrc" != 0 ]; then
    echo "bench_hub.sh: hub exited $hrc after SIGTERM" >&2
    tail -5 hub.err >&2
    exit 1
fi
[ "$rc" = 0 ] || tail -5 hub.err >&2
exit "$rc"
