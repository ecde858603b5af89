# Shared by tests/test_client_*.sh (sourced): a temporary folder with a CA,
# a second CA, a hub certificate for 127.0.0.1 (made per run with openssl;
# nothing private is committed), helpers that start the fake hub and the
# fault proxy and stop exactly the processes they started.
# Needs: BUILD, SRC set by the caller.
PUSH=$BUILD/tests/swsync_test_push
PROXY=$BUILD/tests/swsync_test_faultproxy
MKLOG=$BUILD/tests/swsync_test_mklog
PY=/usr/bin/python3
FAKEHUB=$SRC/tests/support/fakehub.py
HUB_SEED=$(printf '%064d' 7)
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-client-XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$PY" -c 'import nacl.signing' 2>/dev/null ||
    fail "PyNaCl missing for $PY (apt-get install python3-nacl)"
mkca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$T/$1.key" -out "$T/$1.pem" -days 2 -subj "/CN=$1" \
        2>/dev/null || fail "openssl: CA $1"
}
mkca ca
mkca otherca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/hub.key" -out "$T/hub.csr" -subj "/CN=localhost" 2>/dev/null &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/ext" &&
    openssl x509 -req -in "$T/hub.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
        -CAcreateserial -out "$T/hub.pem" -days 2 -extfile "$T/ext" \
        2>/dev/null || fail "openssl: hub certificate"

# wait_file FILE: until FILE is non-empty, at most 10 s.
wait_file() {
    local i
    for i in $(seq 1 100); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    fail "$1 did not appear within 10 s"
}

# start_hub NAME [fakehub options]: HUB_PID, HUB_PORT; state in $T/NAME.json
start_hub() {
    local name=$1
    shift
    rm -f "$T/$name.port"
    "$PY" "$FAKEHUB" --cert "$T/hub.pem" --key "$T/hub.key" \
        --port-file "$T/$name.port" --seed "$HUB_SEED" \
        --state-file "$T/$name.json" "$@" &
    HUB_PID=$!
    PIDS+=("$HUB_PID")
    wait_file "$T/$name.port"
    HUB_PORT=$(cat "$T/$name.port")
}

# start_proxy NAME TARGET [proxy options]: PROXY_PID, PROXY_PORT
start_proxy() {
    local name=$1 target=$2
    shift 2
    rm -f "$T/$name.pport"
    "$PROXY" --target "$target" --port-file "$T/$name.pport" "$@" &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_file "$T/$name.pport"
    PROXY_PORT=$(cat "$T/$name.pport")
}

# stop PID: end one process this test started.
stop() {
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# hub_check NAME FEEDHEX N: the hub holds seq 1..N of the feed, each
# accepted exactly once.
hub_check() {
    "$PY" - "$T/$1.json" "$2" "$3" <<'PYEOF' || fail "hub state of $1"
import json, sys
st = json.load(open(sys.argv[1]))
feed, n = sys.argv[2], int(sys.argv[3])
held = st["feeds"].get(feed, [])
if len(held) != n:
    sys.exit("hub holds %d frames of %s, want %d" % (len(held), feed[:16], n))
for s in range(1, n + 1):
    c = st["accepts"].get("%s:%d" % (feed, s), 0)
    if c != 1:
        sys.exit("seq %d accepted %d times" % (s, c))
PYEOF
}

# sqlv DB SQL: one value from a state database.
sqlv() {
    sqlite3 "$1" "$2" 2>/dev/null
}

# Feed keys of the logs mklog writes (test keys 1..K, FORMAT §12).
feed_of() {
    "$PY" - "$1" <<'PYEOF'
import hashlib, sys
from nacl.signing import SigningKey
seed = hashlib.sha256(b"swsync test key " + sys.argv[1].encode()).digest()
print(bytes(SigningKey(seed).verify_key).hex())
PYEOF
}
