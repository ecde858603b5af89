#!/bin/bash
# Conflict review and resolution (issue 5, MERGE §5.5), real processes over
# HTTPS on 127.0.0.1: a county hub and two stations (setup as
# tests/test_pull.sh). The county (`swsync-hub change`) and station 1 (its
# own `change`, before it pulls) edit the same case column concurrently:
# - the conflicts (also one of a personal column, clients.name, whose
#   values stay hidden without --reveal) are pending at the hub (/metrics, the page with the resolve
#   command, `swsync-hub conflicts` and --json);
# - a bad id is refused with exit 2 and the hub's content hash unchanged;
# - `swsync-hub resolve ID --keep loser` authors a change-set; after a sync
#   station 1 holds the chosen value, the hub's pending count is 0 and the
#   station's own replica has no pending conflict either (same rule).
# $1 = build directory, $2 = source directory.
set -u
BUILD=$(cd "${1:?build dir}" && pwd)
SRC=$(cd "${2:?source dir}" && pwd)
. "$SRC/tests/support/county_env.sh"
nframes_hub() { # frames in the hub's feed (FORMAT §3)
    "$PY" - cdata/hub.log <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
pos, n = 32, 0
while pos + 8 <= len(d):
    pos += 12 + struct.unpack(">I", d[pos + 4:pos + 8])[0]
    n += 1
print(n)
PYEOF
}
# pending DIR: conflicts waiting for review in a station's replica, by
# MERGE §5.5 read independently of the C code: the history's packed writes
# (MERGE §4) decoded here.
pending() {
    "$PY" - "$1/replica.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
def varint(b, i):
    v = s = 0
    while True:
        x = b[i]; i += 1
        v |= (x & 0x7F) << s; s += 7
        if not x & 0x80:
            return v, i
def writes(b):
    i = 0
    while i < len(b):
        n, i = varint(b, i); col = b[i:i + n].decode(); i += n
        rep, i = varint(b, i)
        tag = b[i]; i += 1
        if tag == 1: _, i = varint(b, i)
        elif tag == 2: i += 8
        elif tag in (3, 4): n, i = varint(b, i); i += n
        elif tag != 0: sys.exit("bad tag %d" % tag)
        yield col, rep
hist = {}
for t, r, w in db.execute("SELECT tbl, row_id, writes FROM _sw_hist"):
    hist.setdefault((t, r), []).extend(writes(w))
n = 0
for t, r, c, a, b in db.execute("SELECT tbl, row_id, col, win_hlc, lose_hlc FROM _sw_conflicts"):
    if not any(col == c and rep >= a and rep >= b for col, rep in hist.get((t, r), [])):
        n += 1
print(n)
PYEOF
}
metric() { # metric NAME: its value from /metrics
    curl -sS --cacert ca.pem "https://127.0.0.1:$HUB_PORT/metrics" |
        sed -n "s/^$1 //p"
}

echo "== stations push to the county"
hub_start
hub_pin_port st1 st2
for n in 1 2; do
    sync_st "st$n"
done
[ "$(metric swsync_hub_conflicts_pending)" = 0 ] || fail "pending before"
hub_stop

echo "== concurrent edits: the county and station 1 change risk_level"
hub_cmd change cases "$CASE" risk_level=high || fail "hub change"
hub_cmd change clients "$CL" name=县里改名 || fail "hub change name"
"$A" --dir st1 change cases "$CASE" risk_level=key >/dev/null 2>err ||
    { cat err; fail "station change"; }
"$A" --dir st1 change clients "$CL" name=站里改名 >/dev/null 2>err ||
    { cat err; fail "station change name"; }
hub_start
sync_st st1
[ "$(pending st1)" = 2 ] || fail "station 1 pending conflicts: $(pending st1), want 2"
hub_stop
hub_start
P=$(metric swsync_hub_conflicts_pending)
[ "$P" = 2 ] || fail "hub pending conflicts: '$P', want 2"
curl -sS --cacert ca.pem "https://127.0.0.1:$HUB_PORT/" >page.html ||
    fail "page"
hub_stop

echo "== swsync-hub conflicts"
hub_cmd conflicts || fail "conflicts"
cat hubcmd.out
grep -q "^2 conflicts waiting" hubcmd.out || fail "conflicts: count"
ID=$(grep "cases.risk_level" hubcmd.out | cut -d' ' -f1)
NID=$(grep "clients.name" hubcmd.out | cut -d' ' -f1)
# Personal values are hidden, on the page too, unless --reveal.
grep -q "(hidden: personal)" hubcmd.out || fail "name not hidden"
grep -q "改名" hubcmd.out page.html && fail "a personal value was shown"
grep -q "$NID" page.html || fail "the page does not list $NID"
"$HUB" conflicts --config county.conf --reveal >reveal.out ||
    fail "conflicts --reveal"
grep -q "县里改名" reveal.out && grep -q "站里改名" reveal.out ||
    fail "--reveal does not show the values"
[ ${#ID} = 12 ] || fail "conflicts: id '$ID'"
grep -q "cases.risk_level" hubcmd.out || fail "conflicts: column"
grep -q "swsync-hub resolve --config HUB.CONF $ID --keep" page.html ||
    fail "the page does not show the resolve command for $ID"
hub_cmd conflicts --json || fail "conflicts --json"
LOSER=$("$PY" -c '
import json, sys
a = json.load(open("hubcmd.out"))
c = [x for x in a if x["id"] == sys.argv[1]]
assert len(a) == 2 and len(c) == 1, a
print(c[0]["loser"]["value"])' "$ID") || fail "json"
WINNER=$(val cdata "SELECT risk_level FROM cases WHERE id='$CASE'")
echo "winner $WINNER, loser $LOSER"
[ -n "$LOSER" ] && [ "$LOSER" != "$WINNER" ] || fail "values"

echo "== a bad id changes nothing"
H0=$("$HUB" content-hash --config county.conf) || fail "content-hash"
F0=$(nframes_hub)
hub_cmd resolve 000000000000 --keep winner && fail "bad id accepted"
grep -q "no conflict waiting for review has id" hubcmd.err ||
    { cat hubcmd.err; fail "bad id: message"; }
"$HUB" resolve --config county.conf 000000000000 --keep winner \
    >/dev/null 2>&1
[ $? = 2 ] || fail "bad id: exit code"
hub_cmd resolve "$ID" --keep bogus && fail "invalid value accepted"
[ "$("$HUB" content-hash --config county.conf)" = "$H0" ] ||
    fail "a refused resolve changed the hub replica"
[ "$(nframes_hub)" = "$F0" ] || fail "a refused resolve wrote a frame"

echo "== resolve --keep loser"
hub_cmd resolve "$ID" --keep loser --operator 县审核员 || fail "resolve"
cat hubcmd.out
grep -q "for 440983102000-01" hubcmd.out || fail "resolve: addressee"
[ "$(val cdata "SELECT risk_level FROM cases WHERE id='$CASE'")" = "$LOSER" ] ||
    fail "hub replica does not hold the chosen value"
hub_cmd conflicts || fail "conflicts after"
grep -q "^1 conflict waiting" hubcmd.out || { cat hubcmd.out; fail "still listed"; }
grep -q "$ID" hubcmd.out && fail "$ID still listed"
hub_cmd resolve "$NID" --keep 第三个名字 || fail "resolve name"
grep -q "改名\|第三个" hubcmd.out hubcmd.err && fail "resolve printed a name"
hub_cmd resolve "$ID" --keep loser && fail "resolved twice"
hub_start
sync_st st1
[ "$(val st1 "SELECT risk_level FROM cases WHERE id='$CASE'")" = "$LOSER" ] ||
    fail "station 1 does not hold the chosen value"
[ "$(val st1 "SELECT name FROM clients WHERE id='$CL'")" = 第三个名字 ] ||
    fail "station 1 does not hold the chosen name"
[ "$(pending st1)" = 0 ] ||
    fail "station 1 still has a pending conflict"
[ "$(metric swsync_hub_conflicts_pending)" = 0 ] || fail "hub pending after"
curl -sS --cacert ca.pem "https://127.0.0.1:$HUB_PORT/" >page.html
grep -q "$ID\|$NID" page.html && fail "the page still lists a resolved one"
hub_stop
echo "PASS"
