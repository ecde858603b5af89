#!/usr/bin/env python3
"""A week of a station's work made offline, as CSV files for
`swsync-agent import` (bench/bench_offline.sh): CASES new clients each
with a new case opened eight days ago, and SERVICES case services over the
last seven days, spread over the station's staff so that no worker's
services overlap and none works more than 480 minutes a day (SCHEMA V9).
Made-up people only (tools/demo/gen_records.py's generators).

usage: offline_backlog.py --station N --staff ID,ID,... --out DIR
                          [--cases 50] [--services 600] [--seed S]
Writes DIR/01_clients.csv, 02_cases.csv, 03_case_services.csv.
"""
import argparse
import datetime
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tools", "demo"))
import gen_records as g  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--station", type=int, required=True, choices=(1, 2, 3))
    ap.add_argument("--staff", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", type=int, default=50)
    ap.add_argument("--services", type=int, default=600)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    staff = a.staff.split(",")
    if not 1 <= a.cases <= 1000 or not 0 <= a.services <= 5000:
        sys.exit("offline_backlog: --cases 1..1000, --services 0..5000")
    # 7 days x 480 minutes per worker, 15-minute services.
    if a.services > len(staff) * 7 * 32:
        sys.exit("offline_backlog: too many services for %d staff in a week"
                 % len(staff))
    rng = random.Random(a.seed)
    n = a.station
    me = g.unit_id(n)
    tw = g.township(n)
    villages = [tw[:9] + "%03d" % (200 + v) for v in range(1, 6)]
    today = (datetime.datetime.now(datetime.timezone.utc) +
             datetime.timedelta(hours=8)).date()
    os.makedirs(a.out, exist_ok=True)
    used, report = set(), []

    clients, rows = [], []
    for _ in range(a.cases):
        male = rng.random() < 0.45
        b = g.birth(rng, 1932, 1965)
        cid = g.uuid7()
        clients.append(cid)
        rows.append([cid, me, g.name(rng), "male" if male else "female",
                     b.isoformat(), "resident_id",
                     g.resident_id(rng, b, male, used), rng.choice(villages),
                     "rural", rng.choice(("alone", "spouse_only"))])
    g.write(a.out, 1, "clients",
            ["id", "owner_unit_id", "name", "gender", "birth_date", "id_type",
             "id_number", "village_code", "hukou", "living"], rows, report)

    opened = today - datetime.timedelta(days=8)
    cases, rows = [], []
    for i, client in enumerate(clients):
        cid = g.uuid7()
        cases.append((cid, client))
        rows.append([cid, me, client, staff[i % len(staff)],
                     "%s-%d-W-%04d" % (g.unit_code(n), opened.year, i + 1),
                     opened.isoformat(), "self", "outreach", "intake",
                     rng.choice(("high", "key", "general"))])
    g.write(a.out, 2, "cases",
            ["id", "owner_unit_id", "client_id", "worker_id", "case_no",
             "opened_on", "consent_by", "source", "stage", "risk_level"],
            rows, report)

    # Service i: worker i % staff, day (i // staff) % 7 of the last seven,
    # slot i // (7 * staff) of 15 minutes from 08:00.
    rows = []
    k = len(staff)
    for i in range(a.services):
        w = i % k
        day = today - datetime.timedelta(days=7 - (i // k) % 7)
        slot = i // (7 * k)
        t = 8 * 60 + 15 * slot
        case_id, client = cases[i % len(cases)]
        rows.append([g.uuid7(), me, client, case_id, staff[w],
                     day.isoformat(), "%02d:%02d" % (t // 60, t % 60), "15",
                     rng.choice(("home_visit", "phone_video")),
                     rng.choice(("emotional_support;safety_check",
                                 "policy_info", "daily_care")), "0"])
    g.write(a.out, 3, "case_services",
            ["id", "owner_unit_id", "client_id", "case_id", "worker_id",
             "service_date", "start_time", "minutes", "mode", "content",
             "risk_found"], rows, report)
    print("\n".join(report))


if __name__ == "__main__":
    main()
