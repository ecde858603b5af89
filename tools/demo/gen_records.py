#!/usr/bin/env python3
"""Synthetic records for one demo station, as CSV files for
`swsync-agent import` (agent/README.md "CSV import"), valid under
spec/SCHEMA.md §3-§8. No real person: names are random pairs of a common
surname and given-name characters, ID numbers are made up (GB 11643 check
digit right, county 440983's division code, birth date and sex digit
matching the row), phones are random mobile numbers.

usage: gen_records.py --station N --out DIR [--seed S] [--scale K]

Writes DIR/NN_<table>.csv in import order (references point to earlier
files only) and prints one line per file: "<table> <rows>". Row ids are
UUIDv7 (SCHEMA §2) made from os.urandom; everything else follows --seed.
Unit ids are fixed (unit_id() below), so the three stations write the
same province and county rows.
"""
import argparse
import csv
import datetime
import os
import random
import time

COUNTY = "440983"  # one county; IDs and division codes all from it
UNIT_BASE = "0193a000-0000-7000-8000-"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁宋郑谢韩唐冯邓曹彭曾"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰凤红梅春秋"
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def unit_id(n):
    """Fixed org_units ids: 44 the province, 440983 the county, 1..3 the
    stations."""
    return UNIT_BASE + "%012d" % n


PROVINCE_ID, COUNTY_ID = unit_id(44), unit_id(440983)


def township(n):
    """Station n's township code (SCHEMA V4: 9 digits + 000)."""
    return "%s%03d000" % (COUNTY, 100 + n)


def unit_code(n):
    return township(n) + "-01"


def uuid7():
    ms = int(time.time() * 1000)
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def resident_id(rng, birth, male, used):
    """GB 11643-1999: 6-digit division code, birth date, 3-digit order
    number (odd for men), ISO 7064 MOD 11-2 check character."""
    while True:
        order = rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = "%s%s%03d" % (COUNTY, birth.strftime("%Y%m%d"), order)
        if body not in used:
            used.add(body)
            break
    s = sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11
    return body + "10X98765432"[s]


def name(rng):
    n = rng.choice((1, 2, 2))
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(n))


def phone(rng):
    return "1%d%d%08d" % (rng.choice((3, 5, 8)), rng.randrange(10),
                          rng.randrange(10**8))


def birth(rng, y0, y1):
    d0 = datetime.date(y0, 1, 1).toordinal()
    d1 = datetime.date(y1, 12, 31).toordinal()
    return datetime.date.fromordinal(rng.randrange(d0, d1 + 1))


def write(out, idx, table, header, rows, report):
    path = os.path.join(out, "%02d_%s.csv" % (idx, table))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    report.append("%s %d" % (table, len(rows)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--station", type=int, required=True, choices=(1, 2, 3))
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=2024)
    # Dates and the one-service-a-day plan fit 200 days up to scale 5.
    ap.add_argument("--scale", type=int, default=1, choices=range(1, 6))
    a = ap.parse_args()
    n, k = a.station, a.scale
    rng = random.Random(a.seed * 10 + n)
    os.makedirs(a.out, exist_ok=True)
    me = unit_id(n)
    tw = township(n)
    villages = [tw[:9] + "%03d" % (200 + v) for v in range(1, 6)]
    # Dates of work: the last 200 days, up to yesterday (China time).
    today = (datetime.datetime.now(datetime.timezone.utc) +
             datetime.timedelta(hours=8)).date()
    start = today - datetime.timedelta(days=200)
    used_ids = set()
    report = []

    write(a.out, 1, "org_units",
          ["id", "level", "parent_id", "name", "unit_code", "division_code",
           "division_code_year", "status"],
          [[PROVINCE_ID, "provincial_hub", "", "示范省社会工作指导中心", "44",
            "440000", "2024", "active"],
           [COUNTY_ID, "county_hub", PROVINCE_ID, "示范县社会工作服务中心",
            COUNTY, COUNTY, "2024", "active"],
           [me, "station", COUNTY_ID, "示范镇%d社工站" % n, unit_code(n),
            tw, "2024", "active"]], report)

    staff, staff_rows = [], []
    for i, role in enumerate(("station_head", "social_worker",
                              "social_worker")):
        male = rng.random() < 0.4
        b = birth(rng, 1975, 1998)
        sid = uuid7()
        staff.append(sid)
        staff_rows.append([sid, me, name(rng), "male" if male else "female",
                           b.isoformat(), "resident_id",
                           resident_id(rng, b, male, used_ids), phone(rng),
                           role, "purchased_service",
                           (start - datetime.timedelta(days=400)).isoformat()])
    write(a.out, 2, "staff",
          ["id", "owner_unit_id", "name", "gender", "birth_date", "id_type",
           "id_number", "phone", "role", "employment", "start_date"],
          staff_rows, report)

    clients, rows = [], []
    for i in range(20 * k):
        male = rng.random() < 0.45
        b = birth(rng, 1932, 1965)
        cid = uuid7()
        clients.append(cid)
        rows.append([cid, me, name(rng), "male" if male else "female",
                     b.isoformat(), "resident_id",
                     resident_id(rng, b, male, used_ids), rng.choice(villages),
                     rng.choice(("rural", "rural", "urban")),
                     rng.choice(("alone", "spouse_only", "with_children"))])
    write(a.out, 3, "clients",
          ["id", "owner_unit_id", "name", "gender", "birth_date", "id_type",
           "id_number", "village_code", "hukou", "living"], rows, report)

    # One case for each of the first clients; opened early in the window.
    cases, rows = [], []
    for i in range(8 * k):
        opened = start + datetime.timedelta(days=rng.randrange(0, 30))
        cid = uuid7()
        cases.append((cid, clients[i], opened))
        rows.append([cid, me, clients[i], rng.choice(staff[1:]),
                     "%s-%d-A-%04d" % (unit_code(n), opened.year, i + 1),
                     opened.isoformat(), "self",
                     rng.choice(("outreach", "village_referral",
                                 "civil_affairs_referral")),
                     rng.choice(("intake", "assessment", "intervention")),
                     rng.choice(("high", "key", "general"))])
    write(a.out, 4, "cases",
          ["id", "owner_unit_id", "client_id", "worker_id", "case_no",
           "opened_on", "consent_by", "source", "stage", "risk_level"],
          rows, report)

    # Services: one a day (no two overlap, V9), after their case opened.
    rows = []
    for i in range(30 * k):
        day = start + datetime.timedelta(days=31 + i % 160)
        if i < len(cases) * 3:
            case_id, client, _ = cases[i % len(cases)]
        else:
            case_id, client = "", clients[rng.randrange(len(clients))]
        content = rng.choice(("emotional_support;safety_check",
                              "policy_info", "daily_care",
                              "benefit_application;resource_link"))
        rows.append([uuid7(), me, client, case_id, staff[1 + i % 2],
                     day.isoformat(), "%02d:30" % (8 + 4 * (i // 160 % 2)),
                     str(rng.choice((30, 45, 60, 90))),
                     rng.choice(("home_visit", "phone_video", "at_station")),
                     content, "0"])
    write(a.out, 5, "case_services",
          ["id", "owner_unit_id", "client_id", "case_id", "worker_id",
           "service_date", "start_time", "minutes", "mode", "content",
           "risk_found"], rows, report)

    vols, rows = [], []
    for i in range(6 * k):
        male = rng.random() < 0.5
        b = birth(rng, 1970, 2002)
        vid = uuid7()
        vols.append(vid)
        rows.append([vid, me, name(rng), "male" if male else "female",
                     b.isoformat(), "resident_id",
                     resident_id(rng, b, male, used_ids), phone(rng),
                     rng.choice(villages),
                     (start - datetime.timedelta(days=60)).isoformat(),
                     "active"])
    write(a.out, 6, "volunteers",
          ["id", "owner_unit_id", "name", "gender", "birth_date", "id_type",
           "id_number", "phone", "village_code", "registered_on", "status"],
          rows, report)

    # Activities 09:00-12:00 China time (01:00-04:00 UTC), a week apart.
    acts, rows = [], []
    for i in range(3 * k):
        day = start + datetime.timedelta(days=40 + 7 * i)
        aid = uuid7()
        acts.append((aid, day))
        rows.append([aid, me, "敬老探访活动%d" % (i + 1), "示范镇%d社工站" % n,
                     day.isoformat() + "T01:00:00Z",
                     day.isoformat() + "T04:00:00Z", "示范镇敬老院",
                     "elderly;community", "陪伴聊天、整理房间、测量血压",
                     name(rng), staff[0]])
    write(a.out, 7, "volunteer_activities",
          ["id", "owner_unit_id", "name", "organizer_name", "start_at",
           "end_at", "place", "fields", "content", "leader_name",
           "recorder_id"], rows, report)

    rows = []
    for i, (aid, day) in enumerate(acts):
        for vid in vols[:4]:
            rows.append([uuid7(), me, aid, vid, day.isoformat(),
                         str(rng.choice((60, 90, 120, 150))),
                         rng.choice(("good", "excellent", "pass")), staff[0],
                         day.isoformat(), "1"])
    write(a.out, 8, "volunteer_services",
          ["id", "owner_unit_id", "activity_id", "volunteer_id",
           "service_date", "minutes", "evaluation", "recorded_by",
           "recorded_on", "confirmed"], rows, report)

    tday = start + datetime.timedelta(days=90)
    tid = uuid7()
    write(a.out, 9, "trainings",
          ["id", "owner_unit_id", "title", "audience", "kind", "mode",
           "start_date", "end_date", "planned_minutes", "counts_for_ce",
           "pass_score"],
          [[tid, me, "个案管理实务培训", "mixed", "skills", "in_person",
            tday.isoformat(), (tday + datetime.timedelta(days=1)).isoformat(),
            "720", "1", "60"]], report)

    rows = []
    enrolled = (tday - datetime.timedelta(days=10)).isoformat()
    for sid in staff:
        score = rng.randrange(60, 100)
        rows.append([uuid7(), me, tid, "staff", sid, "", enrolled, "passed",
                     str(score)])
    for vid in vols[:2]:
        rows.append([uuid7(), me, tid, "volunteer", "", vid, enrolled,
                     "pending", ""])
    write(a.out, 10, "training_enrollments",
          ["id", "owner_unit_id", "training_id", "person_kind", "staff_id",
           "volunteer_id", "enrolled_on", "result", "score"], rows, report)
    print("\n".join(report))


if __name__ == "__main__":
    main()
