#!/usr/bin/env bash
# A station log of real-schema change-sets, for the seed corpora of the
# fuzz targets (make_seeds.py --log; fuzz_merge needs tables and columns the
# replica declares): a station made with swsync-agent in a temporary
# folder, synthetic records (no real persons) added, changed and removed,
# sealed into 3 change-sets. Usage: station_log.sh SWSYNC_AGENT OUT_LOG
set -euo pipefail
agent=${1:?usage: station_log.sh SWSYNC_AGENT OUT_LOG}
out=${2:?usage: station_log.sh SWSYNC_AGENT OUT_LOG}
work=$(mktemp -d "${TMPDIR:-/tmp}/swsync-seed-station.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SWSYNC_DIR=$work/st SWSYNC_PASSPHRASE_FILE=/nonexistent
"$agent" init --unit 440983102000-01 >/dev/null
up=0193a000-0000-7000-8000-000000000044
uc=0193a000-0000-7000-8000-000000440983
us=0193a000-0000-7000-8000-000000000001
cat >"$work/orgs.csv" <<CSV
id,level,parent_id,name,unit_code,division_code,division_code_year,status
$up,provincial_hub,,测试省中心,44,440000,2024,active
$uc,county_hub,$up,测试县中心,440983,440983,2024,active
$us,station,$uc,测试镇社工站1,440983102000-01,440983102000,2024,active
CSV
"$agent" import org_units "$work/orgs.csv" >/dev/null
{
    echo "owner_unit_id,name,gender,birth_date,id_type,village_code,address"
    for i in 1 2 3 4 5; do
        echo "$us,测试$i,female,1950-01-0$i,none,440983102001,Room $i"
    done
} >"$work/clients.csv"
"$agent" import clients "$work/clients.csv" >/dev/null
"$agent" seal >/dev/null
sw=$("$agent" add staff name=测试社工 gender=female id_type=none \
    role=social_worker employment=direct_hire start_date=2024-01-01)
cl=$("$agent" add clients name=测试老人 gender=male birth_date=1950-03-01 \
    id_type=none village_code=440983102001)
"$agent" add client_categories client_id="$cl" category=elderly_alone \
    start_date=2025-01-01 source=screening verified=1 >/dev/null
case=$("$agent" add cases client_id="$cl" worker_id="$sw" \
    case_no=440983102000-01-2025-A-0001 opened_on=2025-01-05 \
    consent_by=self source=outreach stage=intake risk_level=general)
"$agent" seal >/dev/null
"$agent" change cases "$case" risk_level=high >/dev/null
"$agent" change clients "$cl" address="Room 9" >/dev/null
"$agent" remove client_categories "$("$agent" list client_categories |
    grep -o '[0-9a-f]\{8\}-[0-9a-f-]\{27\}' | head -n 1)" >/dev/null
"$agent" seal >/dev/null
log=$(sed -n 's/^log = //p' "$work/st/station.conf")
case $log in /*) ;; *) log=$work/st/$log ;; esac
cp "$log" "$out"
