#!/bin/bash
# The replica's worker failing for real (agent/hub/README.md "Durability
# and recovery", PROTOCOL §4.9): a county hub's replica.db on a small tmpfs
# (ENOSPC) while hub.db and the feed files stay on the big file system
# (setup as tests/test_pull.sh, real processes over HTTPS on 127.0.0.1).
# - station 1's 3,000 new clients are answered 200 although the replica
#   cannot take them: the store holds them; the hub says on stderr that the
#   replica is behind, and the merged leaves stay below the stored ones;
# - the next push finds the replica still unable to catch up: answered 500
#   "nothing of this batch is acknowledged", and the station keeps it;
# - space freed, the next sync goes through, the hub says it caught up, and
#   after the stop the replica has merged every stored leaf, holds every
#   client once, and hashes like a replica rebuilt from leaf 0.
# Needs root and mount(2) (skipped with exit 77 otherwise: CTest SKIP).
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/support/county_env.sh"
MNT=$T/small
mkdir "$MNT"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null
then
    echo "test_hub_replica_full: SKIP: cannot mount a tmpfs here (needs root)"
    exit 77
fi
unmount_cleanup() { # the hub first: it holds files on the tmpfs
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    mountpoint -q "$MNT" && umount "$MNT"
    cleanup
}
trap unmount_cleanup EXIT
clients_csv() { # clients_csv FIRST LAST
    echo "owner_unit_id,name,gender,birth_date,id_type,village_code,address"
    for ((i = $1; i <= $2; i++)); do
        echo "$(unit_id 1),测试$i,female,1950-01-01,none,440983102001,Room $i of a long synthetic address in a village of the test county"
    done
}

echo "== station 1's first records; replica.db moves to the small tmpfs"
hub_start
hub_pin_port st1
sync_st st1
hub_stop
[ ! -e cdata/replica.db-wal ] || fail "the stop left a WAL file"
mv cdata/replica.db "$MNT/replica.db" || fail "move the replica"
ln -s "$MNT/replica.db" cdata/replica.db
L0=$(merged)
[ "$L0" = "$(stored)" ] || fail "merged $L0 of $(stored) at the start"
# Leave ~300 KiB: the 3,000 clients' rows, versions and history need
# megabytes.
free_kib=$(df -k --output=avail "$MNT" | tail -n 1)
dd if=/dev/zero of="$MNT/filler" bs=1k count=$((free_kib - 300)) \
    status=none 2>/dev/null || true

echo "== 3,000 clients pushed: answered, though the replica is full"
clients_csv 1 3000 >clients.csv
"$A" --dir st1 import clients clients.csv >/dev/null 2>err ||
    { cat err; fail "import clients"; }
: >county.err
hub_start
sync_st st1
grep -q "sent 1 frame (1 new" sync.out || { cat sync.out; fail "no push reported"; }
# The worker reports its failure once; wait for it (bounded).
for _ in $(seq 100); do
    grep -q "replica.db: .*the replica is behind hub.db" county.err && break
    sleep 0.1
done
grep -q "replica.db: .*full.*the replica is behind hub.db (nothing acknowledged is lost)" county.err ||
    { cat county.err; fail "the hub did not say the replica is behind"; }
echo "hub: $(grep -m 1 'the replica is behind' county.err)"
S1=$(stored)
[ "$(merged)" -lt "$S1" ] || fail "merged $(merged) of $S1 on a full disk"
"$A" --dir st1 status --json >st.json 2>/dev/null
[ "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pending"])' st.json)" = 0 ] ||
    { cat st.json; fail "station 1 still has frames to send"; }

echo "== the next push: catch-up cannot write either, so 500 and kept"
clients_csv 3001 3010 >more.csv
"$A" --dir st1 import clients more.csv >/dev/null 2>err ||
    { cat err; fail "import more clients"; }
rc=0
"$A" --dir st1 sync --seal >sync.out 2>&1 || rc=$?
[ $rc != 0 ] || { cat sync.out; fail "sync succeeded on a full replica"; }
grep -q "500" sync.out && grep -q "nothing of this batch is acknowledged" sync.out ||
    { cat sync.out; fail "no clear 500 for the batch"; }
echo "station: $(grep -m 1 'nothing of this batch' sync.out)"
[ "$(stored)" = "$S1" ] || fail "the refused batch was stored"

echo "== space freed: the station syncs the rest, the replica catches up"
rm -f "$MNT/filler"
sync_st st1
grep -q "replica.db caught up with hub.db: [1-9][0-9]* change-sets merged again" county.err ||
    { cat county.err; fail "the hub did not say it caught up"; }
echo "hub: $(grep -m 1 'caught up with' county.err)"
hub_stop
S2=$(stored)
[ "$S2" -gt "$S1" ] || fail "stored $S2 after the resent batch, before $S1"
[ "$(merged)" = "$S2" ] || fail "merged $(merged) of $S2 after catch-up"
[ "$(sqlite3 -readonly cdata/replica.db "SELECT count(*) FROM clients WHERE name LIKE '测试%' AND name GLOB '测试[0-9]*'")" = 3010 ] ||
    fail "the replica does not hold the 3,010 clients once each"
H=$(chash)

echo "== the same as a replica rebuilt from leaf 0"
rm -f cdata/replica.db "$MNT"/replica.db*
hub_start
hub_stop
[ "$(merged)" = "$S2" ] || fail "rebuilt to $(merged), want $S2"
[ "$(chash)" = "$H" ] || fail "rebuild: content hash $(chash), want $H"
echo "PASS: test_hub_replica_full"
