#!/usr/bin/env bash
# The hub's stations pages and /metrics over real HTTPS on 127.0.0.1
# (agent/hub/README.md "Pages and metrics", PROTOCOL §3): three stations,
# one lagging behind with a refused frame (gap), one frozen by a fork. Checks
# the HTML (unit codes, counts, the refusal reason, escaping of a hostile
# station name in the URL), the metrics (every line a comment or a sample,
# the expected values), then renders the page in headless Chromium, checks
# the rendered DOM and keeps screenshots (1280 and 360 px wide) in
# ${SWSYNC_ARTIFACTS:-BUILD/artifacts}. Without chromium: exit 77 (skip)
# after the curl checks.
# usage: test_hub_page.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
B=$1
K=$B/tools/swsync-keys
HF=$B/tests/swsync_test_hubframes
HUB=$B/agent/hub/swsync-hub
ART=${SWSYNC_ARTIFACTS:-$B/artifacts}
T=$(mktemp -d "${TMPDIR:-/tmp}/test_hub_page.XXXXXX")
HUBPID=
cleanup() {
    if [ -n "$HUBPID" ]; then kill -9 "$HUBPID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -f "$T/hub.err" ] && tail -5 "$T/hub.err" >&2
    exit 1
}
ok() { echo "ok - $* [${SECONDS}s]"; }
cd "$T"

# ---- keys: root -> this county hub (4401) -> stations 1, 2, 3
$K new --out root.key >/dev/null
$K root-init --key root.key --unit 44 --log root.log >/dev/null
$K new --out hub.key >/dev/null
$K certify --issuer root.key --issuer-log root.log --subject hub.key \
    --role county --unit 4401 >/dev/null
mkdir -p data
for n in 1 2 3; do
    $K certify --issuer hub.key --issuer-log data/hub.log --certs root.log \
        --subject "$($HF pub $n)" --role station --unit "4401-0$n" \
        $( [ $n = 1 ] && echo --create ) >/dev/null
done
F1=$($HF pub 1); F2=$($HF pub 2); F3=$($HF pub 3)
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
connection_timeout = 2
CONF
$HF seal st1.db st1.log 1 4 >/dev/null
$HF seal st2.db st2.log 2 6 >/dev/null
$HF seal st3.db st3.log 3 3 >/dev/null

"$HUB" --config hub.conf --port-file port 2>>hub.err &
HUBPID=$!
for _ in $(seq 100); do
    [ -s port ] && break
    kill -0 "$HUBPID" 2>/dev/null || fail "hub exited at start"
    sleep 0.1
done
[ -s port ] || fail "hub did not start within 10 s"
URL=https://127.0.0.1:$(cat port)
push() { # FILE WANT-STATUS
    local code
    code=$(curl -sS --cacert tls.crt -o ans.json -w '%{http_code}' \
        -H "Content-Type: application/x-swsync-frames" \
        --data-binary @"$1" "$URL/v1/push") || fail "curl push $1"
    [ "$code" = "$2" ] || fail "push $1: status $code, want $2"
}
get() { # PATH OUT [WANT-STATUS]
    local code
    code=$(curl -sS --cacert tls.crt -o "$2" -w '%{http_code}' "$URL$1") ||
        fail "curl $1"
    [ "$code" = "${3:-200}" ] || fail "GET $1: status $code, want ${3:-200}"
}

# ---- station 1: all 4 frames; station 2: 1..3 then 5 (a gap: refused);
# station 3: 1..2, then another frame at seq 2 (a fork: frozen)
$HF bundle s1 st1.log 1 4 && push s1 200
$HF bundle s2 st2.log 1 3 && push s2 200
$HF bundle s2gap st2.log 5 5 && push s2gap 200
grep -q '"error":"gap"' ans.json || fail "seq 5 of station 2 not refused as gap"
$HF bundle s3 st3.log 1 2 && push s3 200
NOW=$(($(date +%s) * 1000))
$HF forge fork 3 2 "$($HF id st3.log 1)" "$NOW" someone-else
push fork 409
ok "pushed: station 1 complete, station 2 with a gap, station 3 forked"

# ---- the station list
get / index.html
grep -q '<!DOCTYPE html>' index.html || fail "not HTML5"
grep -q 'name="viewport"' index.html || fail "no viewport (small screens)"
for u in 4401-01 4401-02 4401-03; do
    grep -q ">$u</a>" index.html || fail "station $u not listed"
done
[ "$(grep -c '<tr class="station">' index.html)" = 3 ] ||
    fail "not 3 station rows"
grep -Eiq '(src|href)="?(https?:)?//' index.html &&
    fail "an external asset or link"
row() { grep "<tr class=\"station\">.*>$1</a>" index.html; }
row 4401-02 | grep -q 'data-label="Lag" class="bad">2<' ||
    fail "station 2: lag 2 not shown"
row 4401-02 | grep -q 'data-label="Refused" class="bad">1<' ||
    fail "station 2: 1 refused not shown"
row 4401-01 | grep -q 'data-label="Frames/records">4 / 4<' ||
    fail "station 1: 4 frames / 4 records not shown"
row 4401-01 | grep -q 'data-label="Lag">0<' || fail "station 1: lag not 0"
row 4401-03 | grep -q 'frozen (fork)' || fail "station 3 not frozen"
row 4401-01 | grep -q 'data-label="Last contact"><time>' ||
    fail "station 1: no last contact"
grep -q 'Frozen: <b class="bad">1</b>' index.html || fail "frozen count"
get /stations stations.html
cmp -s <(sed 's/<time>[^<]*<\/time>//g; s/([0-9]* s ago)//g' index.html) \
    <(sed 's/<time>[^<]*<\/time>//g; s/([0-9]* s ago)//g' stations.html) ||
    fail "/stations differs from /"
ok "station list: 3 units, lag, refused, frames/records, frozen"

# ---- a station's page
get "/stations/$F2" st2.html
grep -q '<h1>Station 4401-02</h1>' st2.html || fail "station 2 title"
grep -q '<tr class="refusal"><td data-label="Seq">5</td><td data-label="Reason"><code>gap</code>' \
    st2.html || fail "station 2: refusal gap at seq 5 not listed"
grep -q '<th>Highest seq offered</th><td>5<' st2.html || fail "offered seq"
grep -q '<th>Head held</th><td>3<' st2.html || fail "head held"
get "/stations/$F3" st3.html
grep -q 'frozen</span>: 1 other frame(s) kept as fork evidence, first at seq 2' \
    st3.html || fail "station 3: fork evidence summary"
get "/stations/$(printf '%064d' 0)" none.html 404
get '/stations/%3Cscript%3Ealert(1)%3C%2Fscript%3E' bad.html 400
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' bad.html ||
    fail "hostile station name not escaped"
grep -q '<script' bad.html && fail "unescaped <script> in the page"
! grep -q someone-else index.html st2.html st3.html ||
    fail "a frame's author (record data) reached a page"
ok "station pages: refusal reason, fork evidence, 404, hostile name escaped"

# ---- /metrics
code=$(curl -sS --cacert tls.crt -o metrics.txt -w '%{http_code} %{content_type}' \
    "$URL/metrics")
[ "$code" = "200 text/plain; version=0.0.4; charset=utf-8" ] ||
    fail "metrics: $code"
bad=$(grep -Evc '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{([a-z_]+="[^"\\]*",?)+\})? -?[0-9.e+-]+|[a-z_]+(\{([a-z_]+="[^"\\]*",?)+\})? \+Inf)$' metrics.txt || true)
[ "$bad" = 0 ] || { grep -Ev '^(#|[a-z_])' metrics.txt | head -3 >&2; fail "$bad metric lines do not parse"; }
m() { awk -v k="$1" 'index($0, k) == 1 {print $NF}' metrics.txt; }
[ "$(m 'swsync_hub_frames_accepted_total ')" = 9 ] ||
    fail "accepted total $(m 'swsync_hub_frames_accepted_total ')"
[ "$(m 'swsync_hub_records_merged_total ')" = 9 ] || fail "records total"
[ "$(m "swsync_hub_frames_refused_total{feed=\"$F2\",unit=\"4401-02\",reason=\"gap\"}")" = 1 ] ||
    fail "refused gap of station 2"
[ "$(m "swsync_hub_station_lag_frames{feed=\"$F2\",unit=\"4401-02\"}")" = 2 ] ||
    fail "lag of station 2"
[ "$(m 'swsync_hub_feeds_frozen ')" = 1 ] || fail "frozen feeds"
[ "$(m 'swsync_hub_frames_forked_total ')" = 1 ] || fail "forked total"
pushes=$(m 'swsync_hub_request_duration_seconds_count{class="push"}')
[ "$pushes" = 5 ] || fail "push histogram count $pushes"
# One after another, every push that reached ingest is a batch of its own.
nb=$(m 'swsync_hub_batches_total ')
[ -n "$nb" ] && [ "$nb" = "$(m 'swsync_hub_pushes_total ')" ] ||
    fail "batches total '$nb' for $(m 'swsync_hub_pushes_total ') pushes"
echo "# batches: $nb for $(m 'swsync_hub_pushes_total ') pushes"
[ "$(m 'swsync_hub_request_duration_seconds_bucket{class="push",le="+Inf"}')" = 5 ] ||
    fail "push +Inf bucket"
grep -q '^# TYPE swsync_hub_request_duration_seconds histogram$' metrics.txt ||
    fail "histogram TYPE"
get /healthz hz && grep -qx ok hz || fail healthz
echo "# page requests: $(m 'swsync_hub_request_duration_seconds_count{class="page"}'), $(m 'swsync_hub_request_duration_seconds_sum{class="page"}') s in all"
ok "metrics: $(grep -vc '^#' metrics.txt) samples parse; accepted, records, refused{gap}, lag, frozen, latency histogram"

# ---- persisted: a restart keeps the observations
kill -TERM "$HUBPID"
for _ in $(seq 200); do kill -0 "$HUBPID" 2>/dev/null || break; sleep 0.1; done
wait "$HUBPID" || fail "hub exited $? after SIGTERM"
HUBPID=
rm -f port
"$HUB" --config hub.conf --port-file port 2>>hub.err &
HUBPID=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "hub did not restart"
URL=https://127.0.0.1:$(cat port)
get / index.html
grep "<tr class=\"station\">.*>4401-02</a>" index.html |
    grep -q 'data-label="Lag" class="bad">2<' || fail "lag lost at restart"
ok "restart: observations kept (stations.db)"

# ---- headless Chromium
CHROME=
for c in chromium chromium-browser; do
    if command -v "$c" >/dev/null; then CHROME=$c; break; fi
done
if [ -z "$CHROME" ]; then
    echo "SKIP: chromium is not installed (apt-get install chromium; ./run installs it)"
    exit 77
fi
chrome() { # the certificate is made for this run: only Chromium ignores it
    timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
        --ignore-certificate-errors "$@" 2>>chrome.err
}
chrome --dump-dom "$URL/" >dom.html || fail "chromium --dump-dom failed"
[ "$(grep -o '<tr class="station">' dom.html | wc -l)" = 3 ] ||
    fail "rendered DOM: not 3 station rows"
for u in 4401-01 4401-02 4401-03; do
    grep -q ">$u</a>" dom.html || fail "rendered DOM: $u missing"
done
mkdir -p "$ART"
chrome --screenshot="$T/wide.png" --window-size=1280,900 "$URL/" >/dev/null ||
    fail "chromium screenshot failed"
chrome --screenshot="$T/narrow.png" --window-size=360,900 "$URL/" >/dev/null ||
    fail "chromium 360 px screenshot failed"
for f in wide narrow; do
    [ "$(head -c 8 "$T/$f.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "$f screenshot is not a PNG"
done
cp "$T/wide.png" "$ART/hub-page.png"
cp "$T/narrow.png" "$ART/hub-page-360.png"
chrome --screenshot="$T/station.png" --window-size=360,900 "$URL/stations/$F2" \
    >/dev/null && cp "$T/station.png" "$ART/hub-station-360.png"
ok "headless Chromium: rendered DOM has the 3 stations; screenshots in $ART"
