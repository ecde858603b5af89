#!/usr/bin/env bash
# A full disk for real: the station's log on a small tmpfs (ENOSPC, not a
# file size limit). Sealing fails with a clear message and changes nothing
# (the log verifies, the changes stay pending); once space is freed the same
# command seals everything, each committed write exactly once.
# Needs root and mount(2) (skipped with exit 77 otherwise: CTest SKIP).
# Usage: test_full_disk.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=${1:?usage: test_full_disk.sh BUILD_DIR SOURCE_DIR}
agent=$build/agent/cli/swsync-agent
verify=$build/tools/swsync-verify
work=$(mktemp -d "${TMPDIR:-/tmp}/swsync-full-disk.XXXXXX")
mnt=$work/small
cleanup() {
    mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test_full_disk: FAIL: $*" >&2; exit 1; }
mkdir "$mnt"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null
then
    echo "test_full_disk: SKIP: cannot mount a tmpfs here (needs root)"
    exit 77
fi

export SWSYNC_DIR=$work/st
"$agent" init --unit 440983102000-01 >/dev/null || fail "init"
# The log goes on the small file system; the replica stays on the big one.
sed -i "s|^log = .*|log = $mnt/station.log|" "$work/st/station.conf"

owner=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b
printf 'id,level,name,unit_code,division_code,division_code_year,status\n%s,provincial_hub,P,44,440000,2024,active\n' \
    "$owner" >"$work/units.csv"
"$agent" import org_units "$work/units.csv" >/dev/null || fail "units"
{
    echo "owner_unit_id,name,gender,birth_date,id_type,village_code,address"
    for i in $(seq 1 3000); do
        echo "$owner,Person $i,female,1950-01-01,none,440983102201,Room $i of a long synthetic address in a village of the test county"
    done
} >"$work/clients.csv"
"$agent" import clients "$work/clients.csv" >/dev/null || fail "import"

# Leave ~24 KiB free: the ~300 KiB of frames cannot fit.
dd if=/dev/zero of="$mnt/filler" bs=1k count=$((1024 - 24)) status=none \
    2>/dev/null || true
rc=0
"$agent" seal >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" = 1 ] || fail "seal on a full disk exited $rc: $(cat "$work/err")"
grep -q "No space left on device" "$work/err" ||
    fail "no clear full-disk message: $(cat "$work/err")"
echo "full disk: $(head -n 1 "$work/err")"
if [ -s "$mnt/station.log" ]; then
    "$verify" "$mnt/station.log" >"$work/v" 2>&1 ||
        fail "the log does not verify after the failed seal: $(cat "$work/v")"
fi
"$agent" status --json >"$work/st.json" 2>/dev/null || true
pending=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pending"])' "$work/st.json")
[ "$pending" -gt 0 ] || fail "nothing pending after a failed seal"

# Space back: the same command completes; every write sealed once.
rm -f "$mnt/filler"
"$agent" seal >"$work/out" 2>"$work/err" ||
    fail "seal after freeing space: $(cat "$work/err")"
"$verify" "$mnt/station.log" >"$work/v" 2>&1 || fail "verify: $(cat "$work/v")"
grep -qE ", 3001 records, .*: valid" "$work/v" ||
    fail "the log does not hold exactly the 3001 writes: $(cat "$work/v")"
"$agent" status --json >"$work/st.json"
pending=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pending"])' "$work/st.json")
[ "$pending" = 0 ] || fail "$pending changes still pending"
echo "test_full_disk: ok"
