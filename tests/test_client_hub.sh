#!/bin/bash
# The sync client against the real hub (agent/hub, swsync-hub) over HTTPS
# on 127.0.0.1: keys and certificates made with swsync-keys (root -> county
# hub -> stations 1 and 2; station 3 certified by nobody), stations' feeds
# sealed by the agent's sealer. Checks: both certified feeds delivered with
# verified receipts and the hub's feed copies hold exactly the stations'
# frames; the uncertified feed is refused with the hub's reason while the
# others sync; cut links through the fault proxy end with every frame
# delivered once; the wrong CA is refused; then the county hub relays every
# feed it holds (its own and its stations') to a provincial hub with the
# same client, frames unchanged.
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/support/client_env.sh"
K=$BUILD/tools/swsync-keys
HF=$BUILD/tests/swsync_test_hubframes
HUB=$BUILD/agent/hub/swsync-hub
[ -x "$HUB" ] && [ -x "$HF" ] && [ -x "$K" ] || fail "swsync-hub, hubframes or swsync-keys not built"
cd "$T" || fail cd

$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null
$K new --out county.key >/dev/null
$K new --out prov.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject county.key \
    --role county --unit 4401 >/dev/null || fail "certify county"
$K certify --issuer root.key --issuer-log root.log --subject prov.key \
    --role province --unit 44 >/dev/null || fail "certify province"
mkdir -p cdata pdata
for n in 1 2; do
    $K certify --issuer county.key --issuer-log cdata/hub.log \
        --certs root.log --subject "$($HF pub $n)" --role station \
        --unit "4401-0$n" $([ $n = 1 ] && echo --create) >/dev/null ||
        fail "certify station $n"
done
F1=$($HF pub 1)
F2=$($HF pub 2)
F3=$($HF pub 3)
FC=$($K pub county.key)
$HF seal st1.db st1.log 1 8 >/dev/null || fail "seal 1"
$HF seal st2.db st2.log 2 40 >/dev/null || fail "seal 2"
$HF seal st3.db st3.log 3 2 >/dev/null || fail "seal 3"

# hub NAME KEY DATA UNIT: start swsync-hub with the test CA's certificate.
hub() {
    cat >"$1.conf" <<EOC
listen = 127.0.0.1
port = 0
tls_cert = $T/hub.pem
tls_key = $T/hub.key
hub_key = $2
data = $3
root_key = $($K pub root.key)
trust_log = root.log
unit = $4
connection_timeout = 5
EOC
    rm -f "$1.port"
    "$HUB" --config "$1.conf" --port-file "$1.port" 2>>"$1.err" &
    HUB_PID=$!
    PIDS+=("$HUB_PID")
    wait_file "$1.port"
    HUB_PORT=$(cat "$1.port")
}

# same_frames A B: the two FORMAT §3 files hold the same frame bodies
# (envelopes differ: each file has its own salt).
same_frames() {
    "$PY" - "$1" "$2" <<'PYEOF' || fail "$1 and $2 hold different frames"
import struct, sys
def bodies(p):
    d = open(p, "rb").read()
    out, pos = [], 32
    while pos + 8 <= len(d):
        n = struct.unpack(">I", d[pos + 4:pos + 8])[0]
        out.append(d[pos + 8:pos + 8 + n])
        pos += 12 + n
    return out
a, b = bodies(sys.argv[1]), bodies(sys.argv[2])
if a != b:
    sys.exit("%d frames vs %d, first difference at %s" % (len(a), len(b),
             next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                  min(len(a), len(b)))))
print("%s: %d frames, identical to %s" % (sys.argv[2], len(b), sys.argv[1]))
PYEOF
}

echo "== stations push to the county hub through a link cut 6 times"
hub county county.key cdata 4401
CPORT=$HUB_PORT
CPID=$HUB_PID
for n in 900 3000 7000 12000 20000 30000; do
    start_proxy "cut$n" "$CPORT" --faulty 1 --cut-down "$n"
    "$PUSH" --url "https://127.0.0.1:$PROXY_PORT" --ca "$T/ca.pem" \
        --state "cut$n.db" --max-frames 16 st2.log >out 2>&1
    r=$(sed -n 's/^result: //p' out)
    case $r in SWLOG_OK | CLIENT_ENET) ;; *) cat out; fail "cut $n: $r" ;; esac
    "$PUSH" --url "https://127.0.0.1:$PROXY_PORT" --ca "$T/ca.pem" \
        --state "cut$n.db" --max-frames 16 st2.log >out 2>&1 ||
        { cat out; fail "clean sync after a cut at $n"; }
    [ "$(sqlv "cut$n.db" "SELECT acked_seq FROM _sw_sync")" = 40 ] ||
        fail "cut $n: mark not at 40"
    echo "cut down at $n: first sync $r, then acknowledged up to 40"
    stop "$PROXY_PID"
done
same_frames st2.log "cdata/feeds/$F2.log"

echo "== three stations' feeds at once; station 3 is certified by nobody"
URL=https://127.0.0.1:$CPORT
"$PUSH" --url "$URL" --ca "$T/ca.pem" --state s.db --max-frames 16 \
    st1.log st2.log st3.log >out 2>&1 && fail "an uncertified feed went through"
cat out
grep -q "result: CLIENT_EREFUSED" out || fail "no refusal"
grep -q "feeds 3 ok 2 refused 1 failed 0" out || fail "feeds summary"
same_frames st1.log "cdata/feeds/$F1.log"
same_frames st2.log "cdata/feeds/$F2.log"
[ "$(sqlv s.db "SELECT count(*) FROM _sw_receipts")" = 48 ] ||
    fail "not 48 receipts"
reason=$(sqlv s.db "SELECT error FROM _sw_refused WHERE feed='$F3' AND seq=1")
[ -n "$reason" ] || fail "the refusal of station 3 is not recorded"
echo "station 3 refused by the hub: $reason"
[ "$(sqlv s.db "SELECT hub_key FROM _sw_sync_hub")" = "$($K pub county.key)" ] ||
    fail "pinned key is not the county hub's"

echo "== the wrong CA"
"$PUSH" --url "$URL" --ca "$T/otherca.pem" --state w.db st1.log >out 2>&1 &&
    fail "wrong CA accepted"
grep -q "result: CLIENT_ETLS" out || { cat out; fail "no TLS refusal"; }

echo "== the county relays every feed it holds to the province"
hub prov prov.key pdata 44
PURL=https://127.0.0.1:$HUB_PORT
# The county's own feed first: it holds the stations' certificates.
"$PUSH" --url "$PURL" --ca "$T/ca.pem" --state cdata/relay.db \
    --hub-key "$($K pub prov.key)" cdata/hub.log "cdata/feeds/$F1.log" \
    "cdata/feeds/$F2.log" >out 2>&1 || { cat out; fail "relay"; }
cat out
grep -q "feeds 3 ok 3 refused 0 failed 0" out || fail "relay summary"
same_frames st1.log "pdata/feeds/$F1.log"
same_frames st2.log "pdata/feeds/$F2.log"
# The county's feed at the province: the frames the relay read (the county
# may have signed more checkpoints since; those go with the next relay).
n=$(sqlv cdata/relay.db "SELECT acked_seq FROM _sw_sync WHERE feed='$FC'")
[ "${n:-0}" -ge 3 ] || fail "county feed: only ${n:-0} frames relayed"
echo "county feed: $n frames relayed with receipts from the province"
stop "$HUB_PID"
stop "$CPID"
echo "client/hub end-to-end tests passed"
