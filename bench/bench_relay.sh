#!/bin/bash
# Relay upward, county -> province over HTTPS on 127.0.0.1: one station feed
# of N one-record change-sets (tests' sealer) pushed to a county hub, then
# timed: `swsync-hub relay` (one pass: hello, heads, batches of 256, every
# receipt verified and stored in relay.db), and a second pass with nothing
# to send. Not a test; figures in agent/hub/README.md "Figures".
# usage: bench/bench_relay.sh BUILD_DIR [N=2048]   (needs openssl, python3-nacl)
set -u
BUILD=$(cd "${1:?usage: bench_relay.sh BUILD_DIR [N]}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
N=${2:-2048}
. "$SRC/tests/support/client_env.sh"
K=$BUILD/tools/swsync-keys
HF=$BUILD/tests/swsync_test_hubframes
HUB=$BUILD/agent/hub/swsync-hub
cd "$T" || fail cd
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null
$K new --out county.key >/dev/null
$K new --out prov.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject county.key \
    --role county --unit 4401 >/dev/null || fail certify
$K certify --issuer root.key --issuer-log root.log --subject prov.key \
    --role province --unit 44 >/dev/null || fail certify
mkdir -p cdata pdata
$K certify --issuer county.key --issuer-log cdata/hub.log --certs root.log \
    --subject "$($HF pub 1)" --role station --unit 4401-01 --create \
    >/dev/null || fail certify
$HF seal st1.db st1.log 1 "$N" >/dev/null || fail seal
conf() {
    cat >"$1.conf" <<EOC
listen = 127.0.0.1
port = 0
tls_cert = $T/hub.pem
tls_key = $T/hub.key
hub_key = $2
data = $3
root_key = $($K pub root.key)
trust_log = root.log
EOC
}
conf prov prov.key pdata
conf county county.key cdata
"$HUB" --config prov.conf --port-file p.port 2>p.err &
PIDS+=($!)
wait_file p.port
"$HUB" --config county.conf --port-file c.port 2>c.err &
PIDS+=($!)
wait_file c.port
t0=$(date +%s.%N)
"$PUSH" --url "https://127.0.0.1:$(cat c.port)" --ca ca.pem --state s.db \
    st1.log >/dev/null 2>&1 || fail "push to the county"
t1=$(date +%s.%N)
echo "station -> county push of $N frames (for comparison):" \
    "$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}") s"
printf 'upstream_url = https://127.0.0.1:%s\nupstream_ca = ca.pem\nupstream_key = %s\n' \
    "$(cat p.port)" "$($K pub prov.key)" >>county.conf
echo "station log: $N frames, $(stat -c %s st1.log) bytes"
"$HUB" relay --config county.conf || fail relay
"$HUB" relay --config county.conf | head -1
