#!/bin/bash
# The hub replica catching up with the store (PROTOCOL §4.9, agent/hub/
# hub_replica.h), real processes over HTTPS on 127.0.0.1 (setup as
# tests/test_pull.sh). The replica commits without fsync, so a power cut
# can take its last commits; the store and the feed files are what a push's
# answer promises, and the hub merges again at start what the replica
# lacks. Simulated here by putting back an older replica.db:
# - an older replica.db (pushed frames and a county-authored one missing)
#   is caught up at start: same content hash and merged leaves as before;
# - no replica.db at all: rebuilt from leaf 0, same content hash;
# - a replica.db "ahead" of hub.db: the hub refuses to start, says why and
#   what to do, and changes nothing;
# - a damaged frame in a feed file that catch-up must read: refused with
#   the file and offset, nothing merged; repaired, the start succeeds;
# - SIGKILL while replica.db's open transaction holds answered batches
#   (replica_commit_ms raised so it cannot have committed): content-hash
#   beside the running hub says the replica is behind; the restart merges
#   them again, to the state a rebuild from leaf 0 gives.
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/support/county_env.sh"
put_back() { # put_back DIR: replica.db as saved in DIR (hub stopped)
    rm -f cdata/replica.db cdata/replica.db-wal cdata/replica.db-shm
    cp "$1"/replica.db* cdata/ || fail "put back $1"
}
flip() { # flip FILE OFFSET: XOR one byte with 0x5a
    "$PY" - "$1" "$2" <<'PYEOF'
import sys
p, o = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(o)
    b = f.read(1)[0]
    f.seek(o)
    f.write(bytes([b ^ 0x5A]))
PYEOF
}

echo "== station 1 pushes its records; the replica is saved"
hub_start
hub_pin_port st1
sync_st st1
hub_stop
mkdir -p snapA
cp cdata/replica.db* snapA/ || fail "save the replica"
LA=$(merged)
[ "$LA" = "$(stored)" ] && [ "$LA" -gt 0 ] ||
    fail "merged leaves $LA, store $(stored)"
HA=$(chash)

echo "== more: a county change, station edits and a new client"
hub_cmd change cases "$CASE" risk_level=high || fail "hub change"
"$A" --dir st1 change cases "$CASE2" risk_level=key >/dev/null 2>err ||
    { cat err; fail "station change"; }
add st1 clients name=测试老人二 gender=male birth_date=1950-03-01 \
    id_type=resident_id id_number="$(resid 2)" \
    village_code=440983102001 >/dev/null || fail "add a client"
hub_start
sync_st st1
hub_stop
L1=$(merged)
[ "$L1" = "$(stored)" ] && [ "$L1" -gt "$LA" ] ||
    fail "after more: merged $L1, store $(stored), before $LA"
H1=$(chash)
[ "$H1" != "$HA" ] || fail "the content hash did not move"

echo "== an older replica.db (a power cut took its last commits)"
put_back snapA
[ "$(chash)" = "$HA" ] || fail "the old replica is not the old state"
: >county.err
hub_start
hub_stop
grep -q "replica.db was behind hub.db: 2 change-sets merged again" \
    county.err || { cat county.err; fail "the start did not say it caught up"; }
[ "$(merged)" = "$L1" ] || fail "caught up to $(merged), want $L1"
[ "$(chash)" = "$H1" ] || fail "catch-up: content hash $(chash), want $H1"
[ "$(val st1 "SELECT count(*) FROM clients")" = 2 ] ||
    fail "station 1 lost a client"

echo "== no replica.db: rebuilt from the feed files"
rm -f cdata/replica.db cdata/replica.db-wal cdata/replica.db-shm
hub_start
hub_stop
[ "$(merged)" = "$L1" ] || fail "rebuilt to $(merged), want $L1"
[ "$(chash)" = "$H1" ] || fail "rebuild: content hash $(chash), want $H1"

echo "== a replica ahead of hub.db: refused, nothing changed"
mkdir -p snap1
cp cdata/replica.db* snap1/
sqlite3 cdata/replica.db "UPDATE _hub_state SET leaves = $((L1 + 5))" ||
    fail "edit the replica"
rm -f county.port
timeout 30 "$HUB" --config county.conf --port-file county.port \
    >ahead.out 2>ahead.err
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && [ ! -s county.port ] ||
    fail "the hub started (exit $rc) with a replica ahead of its store"
grep -q "has merged $((L1 + 5)) leaves but .*hub.db holds $L1" ahead.err &&
    grep -q "move replica.db away" ahead.err ||
    { cat ahead.err; fail "no clear message for a replica ahead"; }
[ "$(merged)" = $((L1 + 5)) ] || fail "the refused start changed the replica"
put_back snap1

echo "== a damaged frame that catch-up must read: refused with its offset"
put_back snapA
# The first leaf the old replica lacks that is in a feed file (pushed).
row=$(sqlite3 -readonly cdata/hub.db "SELECT hex(key), offset FROM frame \
    WHERE leaf >= $LA ORDER BY leaf LIMIT 1") || fail "read hub.db"
key=$(echo "$row" | cut -d'|' -f1 | tr 'A-F' 'a-f')
off=$(echo "$row" | cut -d'|' -f2)
feed=cdata/feeds/$key.log
[ -f "$feed" ] && [ -n "$off" ] || fail "no feed file for leaf $LA: $row"
flip "$feed" $((off + 8 + 60))
timeout 30 "$HUB" --config county.conf --port-file county.port \
    >bad.out 2>bad.err
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] || fail "the hub started on a damaged feed"
grep -q "$key.log: frame at offset $off fails its envelope check" bad.err ||
    { cat bad.err; fail "the error does not name the file and offset"; }
[ "$(merged)" = "$LA" ] || fail "a refused catch-up moved the replica"
[ "$(chash)" = "$HA" ] || fail "a refused catch-up changed the replica"
flip "$feed" $((off + 8 + 60))
hub_start
hub_stop
[ "$(chash)" = "$H1" ] || fail "after the repair: content hash $(chash)"

echo "== SIGKILL while the replica's open transaction holds answered batches"
cp county.conf county.conf.keep
echo "replica_commit_ms = 600000" >>county.conf
hub_start
add st1 clients name=测试老人三 gender=male birth_date=1950-03-01 \
    id_type=resident_id id_number="$(resid 3)" \
    village_code=440983102001 >/dev/null || fail "add a third client"
sync_st st1
L2=$(stored)
LM=$(merged)
[ "$L2" -gt "$L1" ] && [ "$LM" = "$L1" ] ||
    fail "before the kill: store $L2 (was $L1), replica on disk $LM"
"$HUB" content-hash --config county.conf >live.out 2>live.err ||
    { cat live.err; fail "content-hash beside the hub"; }
grep -q "replica.db has merged $L1 of hub.db's $L2 leaves.*still merging" \
    live.err || { cat live.err; fail "content-hash did not say it is behind"; }
kill -9 "$HUB_PID"
wait "$HUB_PID" 2>/dev/null
cp county.conf.keep county.conf
: >county.err
hub_start
hub_stop
grep -q "replica.db was behind hub.db: [1-9][0-9]* change-sets merged again" \
    county.err || { cat county.err; fail "the restart did not catch up"; }
[ "$(merged)" = "$L2" ] || fail "after the kill: merged $(merged), want $L2"
H2=$(chash)
[ -s chash.err ] && { cat chash.err; fail "content-hash noted a lag"; }
rm -f cdata/replica.db cdata/replica.db-wal cdata/replica.db-shm
hub_start
hub_stop
[ "$(chash)" = "$H2" ] || fail "the rebuild differs from the caught-up replica"
[ "$(val st1 "SELECT count(*) FROM clients")" = 3 ] ||
    fail "station 1 lost a client"

echo "PASS test_hub_catchup"
