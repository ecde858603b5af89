#!/bin/bash
# Cut links (issue 4): the sync client pushes 40 frames in batches of 8 to
# the fake hub through tests/support/faultproxy.c, which cuts the first
# connection after N bytes, for 16 values of N spread over what the client
# sends and 16 over what it receives; each run is followed by a clean sync,
# and then every frame is held by the hub exactly once, the acknowledged
# mark is at the head, nothing is recorded as refused. Then: a stalled
# answer ends by the low-speed timeout; a delayed link still delivers;
# SIGTERM during a stalled transfer ends the client at once, cleanly; `run`
# through a link cut twice delivers by itself.
# $1 = build directory, $2 = source directory.
set -u
BUILD=${1:?build dir}
SRC=${2:?source dir}
. "$SRC/tests/support/client_env.sh"

"$MKLOG" "$T/st.log" --feeds 1 --changesets 40 >/dev/null || fail mklog
F1=$(feed_of 1)
N=0

# sync DB PORT [push options]: one sync through the proxy at PORT.
sync() {
    local db=$1 port=$2
    shift 2
    "$PUSH" --url "https://127.0.0.1:$port" --ca "$T/ca.pem" --state "$db" \
        --max-frames 8 --connect-timeout 5 --low-speed-time 5 "$@" \
        "$T/st.log" >"$T/out" 2>&1
}

# consistent NAME DB: all 40 delivered once, mark at the head, no refusal,
# a receipt under every acknowledged seq.
consistent() {
    hub_check "$1" "$F1" 40
    [ "$(sqlv "$2" "SELECT acked_seq FROM _sw_sync WHERE feed='$F1'")" = 40 ] ||
        fail "$1: acked mark is not 40"
    [ "$(sqlv "$2" "SELECT count(*) FROM _sw_receipts")" = 40 ] ||
        fail "$1: not 40 receipts"
    [ "$(sqlv "$2" "SELECT count(*) FROM _sw_refused")" = 0 ] ||
        fail "$1: a frame recorded as refused"
    [ -z "$(sqlv "$2" "SELECT last_error FROM _sw_sync")" ] ||
        fail "$1: an error is left in the state"
}

echo "== measuring one clean sync's bytes"
start_hub m
start_proxy m "$HUB_PORT" --stats "$T/m.stats"
sync "$T/m.db" "$PROXY_PORT" || { cat "$T/out"; fail "clean sync"; }
wait_file "$T/m.stats"
read -r UP DOWN <"$T/m.stats"
echo "client sent $UP bytes, received $DOWN bytes (TLS included)"
[ "$UP" -gt 1000 ] && [ "$DOWN" -gt 1000 ] || fail "implausible byte counts"
consistent m "$T/m.db"
stop "$PROXY_PID"
stop "$HUB_PID"

trial() { # DIR N
    local dir=$1 n=$2 name="c$N"
    N=$((N + 1))
    start_hub "$name"
    start_proxy "$name" "$HUB_PORT" --faulty 1 "--cut-$dir" "$n"
    sync "$T/$name.db" "$PROXY_PORT"
    local r
    r=$(sed -n 's/^result: //p' "$T/out")
    case $r in
        SWLOG_OK | CLIENT_ENET) ;;
        *) cat "$T/out"; fail "cut $dir at $n: unexpected result $r" ;;
    esac
    sync "$T/$name.db" "$PROXY_PORT" ||
        { cat "$T/out"; fail "clean sync after a cut $dir at $n"; }
    consistent "$name" "$T/$name.db"
    printf 'cut %-4s at %7d: first sync %s, then all 40 once\n' "$dir" "$n" "$r"
    stop "$PROXY_PID"
    stop "$HUB_PID"
}
for i in $(seq 1 16); do # 32 trials, about a minute
    # Spread over the whole exchange, denser at the start (the handshake
    # and the small requests), never 0.
    trial up $(((UP * i * i) / 256 - 1 + (i == 1)))
    trial down $(((DOWN * i * i) / 256 - 1 + (i == 1)))
done

echo "== a stalled answer ends by the low-speed timeout"
start_hub st
start_proxy st "$HUB_PORT" --faulty 1 --stall-down $((DOWN / 2))
start=$(date +%s)
sync "$T/st.db" "$PROXY_PORT" --low-speed-time 2 && fail "a stall succeeded"
took=$(($(date +%s) - start))
cat "$T/out"
grep -q "result: CLIENT_ENET" "$T/out" || fail "stall: not a network error"
grep -qi "too slow\|timed out\|timeout" "$T/out" || fail "stall: no timeout"
[ "$took" -le 20 ] || fail "stall: took $took s"
sync "$T/st.db" "$PROXY_PORT" || { cat "$T/out"; fail "sync after stall"; }
consistent st "$T/st.db"
stop "$PROXY_PID"
stop "$HUB_PID"

echo "== a slow link (20 ms per chunk) still delivers"
start_hub dl
start_proxy dl "$HUB_PORT" --delay-ms 20
sync "$T/dl.db" "$PROXY_PORT" || { cat "$T/out"; fail "delayed sync"; }
consistent dl "$T/dl.db"
stop "$PROXY_PID"
stop "$HUB_PID"

echo "== SIGTERM during a stalled transfer"
start_hub sg
start_proxy sg "$HUB_PORT" --faulty 1 --stall-down $((DOWN / 2)) \
    --stall-file "$T/sg.stalled"
"$PUSH" --url "https://127.0.0.1:$PROXY_PORT" --ca "$T/ca.pem" \
    --state "$T/sg.db" --max-frames 8 --low-speed-time 120 "$T/st.log" \
    >"$T/out" 2>&1 &
CL=$!
PIDS+=("$CL")
wait_file_or_empty() {
    local i
    for i in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.1; done
    fail "$1 never appeared"
}
wait_file_or_empty "$T/sg.stalled"
t0=$(date +%s%N)
kill -TERM "$CL"
for i in $(seq 1 50); do kill -0 "$CL" 2>/dev/null || break; sleep 0.1; done
kill -0 "$CL" 2>/dev/null && fail "the client ignored SIGTERM for 5 s"
wait "$CL"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
cat "$T/out"
echo "stopped ${ms} ms after SIGTERM, exit $rc"
[ "$rc" = 1 ] || fail "exit $rc after SIGTERM mid-transfer (want 1)"
grep -q "result: CLIENT_ESTOP" "$T/out" || fail "not reported as stopped"
acked=$(sqlv "$T/sg.db" "SELECT coalesce(max(acked_seq), 0) FROM _sw_sync")
rcpt=$(sqlv "$T/sg.db" "SELECT count(*) FROM _sw_receipts")
[ "${acked:-0}" = "${rcpt:-0}" ] ||
    fail "mark $acked but $rcpt receipts after SIGTERM"
sync "$T/sg.db" "$PROXY_PORT" || { cat "$T/out"; fail "sync after SIGTERM"; }
consistent sg "$T/sg.db"
stop "$PROXY_PID"
stop "$HUB_PID"

echo "== run: a link cut twice, then delivered by the retries"
start_hub rn
start_proxy rn "$HUB_PORT" --faulty 2 --cut-down $((DOWN / 3))
"$PUSH" --url "https://127.0.0.1:$PROXY_PORT" --ca "$T/ca.pem" \
    --state "$T/rn.db" --max-frames 8 --run --interval 3600 "$T/st.log" \
    >"$T/run.out" 2>&1 &
RUN=$!
PIDS+=("$RUN")
for i in $(seq 1 300); do
    grep -q "^pass: SWLOG_OK" "$T/run.out" && break
    sleep 0.1
done
kill -TERM "$RUN"
wait "$RUN"
rc=$?
cat "$T/run.out"
[ "$rc" = 0 ] || fail "run exited $rc"
grep -q "^pass: SWLOG_OK" "$T/run.out" || fail "run did not deliver in 30 s"
passes=$(grep -c "^pass:" "$T/run.out")
[ "$passes" -le 4 ] || fail "$passes passes: retried too eagerly"
consistent rn "$T/rn.db"
echo "client fault tests passed"
