#!/bin/bash
# The sync client against the fake hub (tests/support/fakehub.py): happy
# path with verified and stored receipts, a second sync that sends nothing,
# the wrong CA, the wrong hub key, a receipt whose proof does not verify, a
# refused frame in a relay of several feeds, 503 with Retry-After in `run`.
# $1 = build directory, $2 = source directory.
set -u
BUILD=${1:?build dir}
SRC=${2:?source dir}
. "$SRC/tests/support/client_env.sh"

"$MKLOG" "$T/st.log" --feeds 1 --changesets 40 >/dev/null || fail mklog
"$MKLOG" "$T/relay.log" --feeds 3 --changesets 12 >/dev/null || fail mklog
F1=$(feed_of 1)
F2=$(feed_of 2)
F3=$(feed_of 3)

echo "== happy path: 40 frames in batches of 16"
start_hub h1
URL=https://127.0.0.1:$HUB_PORT
"$PUSH" --url "$URL" --ca "$T/ca.pem" --state "$T/s1.db" --max-frames 16 \
    "$T/st.log" >"$T/out" 2>&1 || { cat "$T/out"; fail "sync"; }
cat "$T/out"
grep -q "acked 40 sent 40 accepted 40 duplicate 0 batches 3: SWLOG_OK" \
    "$T/out" || fail "expected 40 frames in 3 batches"
hub_check h1 "$F1" 40
[ "$(sqlv "$T/s1.db" "SELECT acked_seq FROM _sw_sync WHERE feed='$F1'")" = 40 ] ||
    fail "acked mark is not 40"
[ "$(sqlv "$T/s1.db" "SELECT count(*) FROM _sw_receipts")" = 40 ] ||
    fail "not 40 receipts stored"
[ "$(sqlv "$T/s1.db" "SELECT count(*) FROM _sw_checkpoints")" = 3 ] ||
    fail "not 3 checkpoints stored"
[ "$(sqlv "$T/s1.db" "SELECT count(*) FROM _sw_sync_hub")" = 1 ] ||
    fail "the hub key was not pinned"
# The stored receipt of seq 40 names the frame the log holds there.
"$PUSH" --state "$T/s1.db" --status | tee "$T/status"
grep -q "all 40 frame(s) acknowledged" "$T/status" || fail "status text"
"$PUSH" --state "$T/s1.db" --status --json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)["feeds"][0]
assert d["acked_seq"] == 40 and d["waiting"] == 0 and d["last_error"] is None, d
' || fail "status json"

echo "== a second sync sends nothing"
"$PUSH" --url "$URL" --ca "$T/ca.pem" --state "$T/s1.db" "$T/st.log" \
    >"$T/out" 2>&1 || { cat "$T/out"; fail "second sync"; }
grep -q "sent 0 " "$T/out" || fail "second sync sent frames"

echo "== a log not created yet (nothing sealed) has no feed to push"
"$PUSH" --url "$URL" --ca "$T/ca.pem" --state "$T/s1.db" "$T/none.log" \
    >"$T/out" 2>&1 || { cat "$T/out"; fail "missing log"; }
grep -q "sync: feeds 0 " "$T/out" || fail "missing log: feeds"

echo "== wrong CA: refused, nothing marked"
"$PUSH" --url "$URL" --ca "$T/otherca.pem" --state "$T/s2.db" "$T/st.log" \
    >"$T/out" 2>&1 && fail "sync with the wrong CA succeeded"
cat "$T/out"
grep -q "result: CLIENT_ETLS" "$T/out" || fail "no TLS error"
grep -q "TLS: hub certificate not trusted" "$T/out" || fail "unclear TLS message"
[ "$(sqlv "$T/s2.db" "SELECT count(*) FROM _sw_sync WHERE acked_seq > 0")" = 0 ] ||
    fail "something marked after a TLS failure"
[ "$(sqlv "$T/s2.db" "SELECT count(*) FROM _sw_sync_hub")" = 0 ] ||
    fail "a key pinned after a TLS failure"

echo "== wrong hub key: refused before anything is sent"
"$PUSH" --url "$URL" --ca "$T/ca.pem" --state "$T/s3.db" \
    --hub-key "$(printf '%064d' 0)" "$T/st.log" >"$T/out" 2>&1 &&
    fail "sync with the wrong hub key succeeded"
grep -q "result: CLIENT_ERECEIPT" "$T/out" || { cat "$T/out"; fail "key"; }
stop "$HUB_PID"

echo "== a receipt whose proof does not verify moves nothing"
start_hub h2 --bad-proof
URL=https://127.0.0.1:$HUB_PORT
"$PUSH" --url "$URL" --ca "$T/ca.pem" --state "$T/s4.db" "$T/st.log" \
    >"$T/out" 2>&1 && fail "a bad receipt was accepted"
cat "$T/out"
grep -q "result: CLIENT_ERECEIPT" "$T/out" || fail "no receipt error"
[ "$(sqlv "$T/s4.db" "SELECT count(*) FROM _sw_receipts")" = 0 ] ||
    fail "a bad receipt was stored"
[ "$(sqlv "$T/s4.db" "SELECT max(acked_seq) FROM _sw_sync")" = 0 ] ||
    fail "the mark moved on a bad receipt"
stop "$HUB_PID"

echo "== relay of 3 feeds; the hub refuses seq 5 of feed 2, the others go on"
start_hub h3 --refuse "$F2:5"
URL=https://127.0.0.1:$HUB_PORT
"$PUSH" --url "$URL" --ca "$T/ca.pem" --state "$T/s5.db" --max-frames 4 \
    "$T/relay.log" >"$T/out" 2>&1 && fail "a refusal was not reported"
cat "$T/out"
grep -q "result: CLIENT_EREFUSED" "$T/out" || fail "no refusal result"
grep -q "feeds 3 ok 2 refused 1 failed 0" "$T/out" || fail "feeds summary"
hub_check h3 "$F1" 12
hub_check h3 "$F3" 12
hub_check h3 "$F2" 4
[ "$(sqlv "$T/s5.db" "SELECT acked_seq FROM _sw_sync WHERE feed='$F2'")" = 4 ] ||
    fail "feed 2's mark is not 4"
[ "$(sqlv "$T/s5.db" "SELECT seq || ' ' || error || ' ' || message FROM _sw_refused")" = \
    "5 clock_skew test: frame refused on purpose" ] || fail "refusal not stored"
"$PUSH" --state "$T/s5.db" --status | tee "$T/status"
grep -q "refused by the hub; first: seq 5 clock_skew: test: frame refused on purpose" \
    "$T/status" || fail "status does not show the refusal"
grep -q "8 frame(s) waiting" "$T/status" || fail "status: 8 waiting"
stop "$HUB_PID"

echo "== 503 with Retry-After: run waits at least that long, then delivers"
start_hub h4 --busy 2 --retry-after 2
URL=https://127.0.0.1:$HUB_PORT
"$PUSH" --url "$URL" --ca "$T/ca.pem" --state "$T/s6.db" --run \
    --interval 3600 "$T/st.log" >"$T/run.out" 2>&1 &
RUN=$!
PIDS+=("$RUN")
for i in $(seq 1 200); do
    grep -q "^pass: SWLOG_OK" "$T/run.out" && break
    sleep 0.1
done
kill -TERM "$RUN"
for i in $(seq 1 50); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RUN" 2>/dev/null && fail "run did not stop within 5 s of SIGTERM"
wait "$RUN"
rc=$?
cat "$T/run.out"
[ "$rc" = 0 ] || fail "run exited $rc after SIGTERM"
grep -q "^pass: SWLOG_OK" "$T/run.out" || fail "run never delivered"
[ "$(grep -c '^pass: CLIENT_EHTTP' "$T/run.out")" = 2 ] ||
    fail "expected 2 passes refused with 503"
hub_check h4 "$F1" 40
"$PY" - "$T/h4.json" <<'PYEOF' || fail "Retry-After not respected"
import json, sys
t = json.load(open(sys.argv[1]))["push_times"]
gaps = [b - a for a, b in zip(t, t[1:])][:2]
print("gaps between the first pushes: %s" % ["%.2f" % g for g in gaps])
assert all(g >= 1.95 for g in gaps), gaps
PYEOF
echo "client push tests passed"
