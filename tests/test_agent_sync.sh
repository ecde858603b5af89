#!/bin/bash
# swsync-agent sync and run end to end against the fake hub: a station
# folder made by init, records added, `sync --seal` delivers them with
# verified receipts, a second sync sends nothing, `run --seal` delivers new
# records by itself and stops on SIGTERM, a wrong CA is refused with a
# hint, --help of both commands.
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/support/client_env.sh"
A=$BUILD/agent/cli/swsync-agent
[ -x "$A" ] || fail "$A not built"

"$A" sync --help | grep -q "usage: swsync-agent \[--dir DIR\] sync" ||
    fail "sync --help"
"$A" run --help | grep -q "usage: swsync-agent \[--dir DIR\] run" ||
    fail "run --help"

start_hub h
cd "$T" || fail "cd"
"$A" --dir st init --unit 440983102000-01 \
    --hub-url "https://127.0.0.1:$HUB_PORT" --hub-ca "$T/ca.pem" \
    >init.out 2>&1 || { cat init.out; fail "init"; }
PK=$(sed -n 's/^station public key: //p' init.out)
[ ${#PK} = 64 ] || fail "no station key in init's output"
export SWSYNC_DIR=$T/st

add_unit() { # PROVINCE CODE (41, 42, 43: real province codes)
    "$A" add org_units level=provincial_hub name="测试省$1" \
        unit_code="$1" division_code="${1}0000" \
        division_code_year=2024 status=active >/dev/null 2>add.err ||
        { cat add.err; fail "add $1"; }
}
"$A" sync >out 2>&1 || { cat out; fail "sync with nothing sealed"; }
grep -q "nothing sealed yet" out || fail "sync before any seal"

add_unit 41
add_unit 42
"$A" sync --seal >out 2>&1 || { cat out; fail "sync --seal"; }
cat out
grep -q "the hub acknowledges seq 1 of 1" out || fail "first sync"
hub_check h "$PK" 1
[ "$(sqlv st/replica.db "SELECT acked_seq FROM _sw_sync")" = 1 ] ||
    fail "acked mark in the replica"

"$A" sync >out 2>&1 || { cat out; fail "second sync"; }
grep -q "sent 0 frames" out || { cat out; fail "second sync sent frames"; }

echo "== status shows the sync state in words and JSON"
"$A" status >out 2>&1 || { cat out; fail "status after sync"; }
grep -q "sync: feed .* all 1 frame(s) acknowledged; last success" out ||
    { cat out; fail "status text lacks the sync state"; }
"$A" status --json >out 2>&1 || { cat out; fail "status --json after sync"; }
/usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
f = j["sync"]["feeds"]
assert len(f) == 1 and f[0]["acked_seq"] == 1 and f[0]["local_seq"] == 1, f
' out || { cat out; fail "status --json sync state"; }

echo "== run --seal delivers new records by itself, stops on SIGTERM"
"$A" run --seal --interval 1 >run.out 2>&1 &
RUN=$!
PIDS+=("$RUN")
add_unit 43
for i in $(seq 1 100); do
    [ "$(sqlv st/replica.db "SELECT acked_seq FROM _sw_sync")" = 2 ] && break
    sleep 0.1
done
kill -TERM "$RUN"
for i in $(seq 1 50); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RUN" 2>/dev/null && fail "run ignored SIGTERM"
wait "$RUN"
rc=$?
cat run.out
[ "$rc" = 0 ] || fail "run exited $rc"
grep -q "^stopped" run.out || fail "run did not say it stopped"
hub_check h "$PK" 2

echo "== wrong CA"
cp "$T/otherca.pem" st/hub-ca.pem
"$A" sync >out 2>&1 && fail "sync with the wrong CA succeeded"
cat out
grep -q "TLS: hub certificate not trusted" out || fail "no TLS message"
grep -q "hub_ca in station.conf must be the CA" out || fail "no hint"
echo "agent sync tests passed"
