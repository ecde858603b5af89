# Setting up swsync tiers on this machine (sourced, bash): a TLS CA and a
# hub certificate for 127.0.0.1, the signing keys of a root, a province and
# a county (swsync-keys), hub configurations, starting and stopping hubs,
# stations made with `swsync-agent init` and certified by the county.
# Used by tools/demo/swsync-demo.sh (./run demo) and tests/test_demo.sh.
#
# The caller sets, before calling anything:
#   TIERS_DIR   the working folder (absolute; everything is made there)
#   TIERS_KEYS, TIERS_AGENT, TIERS_HUB   swsync-keys, swsync-agent, swsync-hub
#   tiers_die MESSAGE   a function that reports and exits
# Every wait is a bounded poll; every process started is remembered in
# TIERS_PIDS and ended by tiers_stop_all (call it from the caller's trap).
TIERS_PIDS=()

# tiers_tls: DIR/tls/ca.pem, DIR/tls/hub.pem and hub.key (P-256, 2 days,
# subjectAltName 127.0.0.1 and localhost). Private keys stay in the folder.
tiers_tls() {
    local d=$TIERS_DIR/tls
    mkdir -p "$d" && chmod 700 "$d" || tiers_die "cannot make $d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=swsync demo CA" \
        2>/dev/null || tiers_die "openssl: the CA"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$d/hub.key" -out "$d/hub.csr" -subj "/CN=localhost" \
        2>/dev/null &&
        openssl x509 -req -in "$d/hub.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -CAcreateserial -out "$d/hub.pem" -days 2 -extfile "$d/ext" \
            2>/dev/null || tiers_die "openssl: the hub certificate"
}

# tiers_keys PROVINCE_UNIT COUNTY_UNIT: root.key and root.log (the root's
# trust log), prov.key and county.key certified by the root. Sets
# TIERS_ROOT, TIERS_PK, TIERS_CK (public keys, hex). The county's own log
# (its certificates of stations) is cdata/hub.log, made by tiers_station.
tiers_keys() {
    local k=$TIERS_KEYS d=$TIERS_DIR
    "$k" new --out "$d/root.key" >/dev/null &&
        "$k" root-init --key "$d/root.key" --unit "$1" --log "$d/root.log" \
            >/dev/null || tiers_die "swsync-keys: the root"
    "$k" new --out "$d/prov.key" >/dev/null &&
        "$k" new --out "$d/county.key" >/dev/null ||
        tiers_die "swsync-keys: hub keys"
    "$k" certify --issuer "$d/root.key" --issuer-log "$d/root.log" \
        --subject "$d/prov.key" --role province --unit "$1" \
        --from "$(date -u -d '-1 day' +%F)" --until "$(date -u -d '+2 years' +%F)" >/dev/null ||
        tiers_die "swsync-keys: certify the province"
    "$k" certify --issuer "$d/root.key" --issuer-log "$d/root.log" \
        --subject "$d/county.key" --role county --unit "$2" \
        --from "$(date -u -d '-1 day' +%F)" --until "$(date -u -d '+2 years' +%F)" >/dev/null ||
        tiers_die "swsync-keys: certify the county"
    TIERS_ROOT=$("$k" pub "$d/root.key")
    TIERS_PK=$("$k" pub "$d/prov.key")
    TIERS_CK=$("$k" pub "$d/county.key")
    mkdir -p "$d/pdata" "$d/cdata"
}

# tiers_hubconf NAME KEY DATA UNIT [extra lines...]: DIR/NAME.conf, port 0
# (the hub picks a free one and writes it to its --port-file).
tiers_hubconf() {
    local name=$1 key=$2 data=$3 unit=$4 l
    shift 4
    {
        cat <<EOC
listen = 127.0.0.1
port = 0
tls_cert = tls/hub.pem
tls_key = tls/hub.key
hub_key = $key
data = $data
root_key = $TIERS_ROOT
trust_log = root.log
unit = $unit
connection_timeout = 5
shutdown_grace = 2
EOC
        for l in "$@"; do echo "$l"; done
    } >"$TIERS_DIR/$name.conf"
}

# tiers_wait_file FILE [TENTHS]: until FILE is non-empty, at most TENTHS
# tenths of a second (default 100).
tiers_wait_file() {
    local i
    for ((i = 0; i < ${2:-100}; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# tiers_hub NAME: start swsync-hub with DIR/NAME.conf, stderr to
# DIR/NAME.err; sets HUB_PID and HUB_PORT once it listens (10 s at most).
tiers_hub() {
    local pf=$TIERS_DIR/$1.port
    rm -f "$pf"
    "$TIERS_HUB" --config "$TIERS_DIR/$1.conf" --port-file "$pf" \
        </dev/null >>"$TIERS_DIR/$1.out" 2>>"$TIERS_DIR/$1.err" &
    HUB_PID=$!
    TIERS_PIDS+=("$HUB_PID")
    if ! tiers_wait_file "$pf" 100; then
        tail -n 5 "$TIERS_DIR/$1.err" >&2
        tiers_die "hub $1 did not listen within 10 s (log: $TIERS_DIR/$1.err)"
    fi
    HUB_PORT=$(cat "$pf")
}

# tiers_station N UNIT URL: station folder DIR/stN (swsync-agent init) for
# the hub at URL, certified by the county for a year from yesterday. Sets
# TIERS_ST[N] to its public key.
declare -a TIERS_ST
tiers_station() {
    local n=$1 unit=$2 url=$3 d=$TIERS_DIR out
    out=$("$TIERS_AGENT" --dir "$d/st$n" init --unit "$unit" --hub-url "$url" \
        --hub-ca "$d/tls/ca.pem" 2>&1) || {
        echo "$out" >&2
        tiers_die "swsync-agent init station $n"
    }
    TIERS_ST[$n]=$(sed -n 's/^station public key: //p' <<<"$out")
    [ ${#TIERS_ST[$n]} = 64 ] || tiers_die "no key in init's output ($n)"
    local create=()
    [ -s "$d/cdata/hub.log" ] || create=(--create)
    "$TIERS_KEYS" certify --issuer "$d/county.key" \
        --issuer-log "$d/cdata/hub.log" --certs "$d/root.log" \
        --subject "${TIERS_ST[$n]}" --role station --unit "$unit" \
        --from "$(date -u -d '-1 day' +%F)" \
        --until "$(date -u -d '+1 year' +%F)" "${create[@]}" >/dev/null ||
        tiers_die "swsync-keys: certify station $n"
}

# tiers_stop PID: SIGTERM one process started here, wait for it (5 s, then
# SIGKILL).
tiers_stop() {
    local i
    kill "$1" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

tiers_stop_all() {
    local p
    for p in "${TIERS_PIDS[@]}"; do
        tiers_stop "$p"
    done
    TIERS_PIDS=()
}

# tiers_head DATA FEED: the seq a hub holds of a feed (read-only).
tiers_head() {
    local v
    v=$(sqlite3 -readonly "$1/hub.db" \
        "SELECT seq FROM feed WHERE key=x'$2'" 2>/dev/null)
    echo "${v:-0}"
}
