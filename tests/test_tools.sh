#!/bin/bash
# swsync-verify and swsync-dump on good, damaged, torn and forked logs.
# $1 = build directory, $2 = source directory.
set -u
BUILD=${1:?build dir}
VERIFY=$BUILD/tools/swsync-verify
DUMP=$BUILD/tools/swsync-dump
MKLOG=$BUILD/tests/swsync_test_mklog
T=$(mktemp -d "${TMPDIR:-/tmp}/swsync-tools-XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0
# Under -DSWSYNC_SANITIZE=ON a sanitizer report must not pass for the exit
# status 1 that damaged logs expect.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87:print_stacktrace=1"

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect_rc WANT NAME CMD...: run CMD, stdout+stderr to $T/out, check status.
expect_rc() {
    local want=$1 name=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if grep -qE "Sanitizer|runtime error" "$T/err"; then
        fail "$name: sanitizer report"
        head -20 "$T/err" | sed 's/^/    /'
    fi
    if [ "$rc" -ne "$want" ]; then
        fail "$name: exit $rc, expected $want"
        sed 's/^/    /' "$T/out" "$T/err" | head -20
    fi
}
# expect_in FILE NAME PATTERN: grep -F PATTERN in FILE.
expect_in() {
    grep -qF -- "$3" "$1" || { fail "$2: no '$3' in output"; head -20 "$1" | sed 's/^/    /'; }
}
json_ok() { python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' <"$1"; }
# File offset of frame N (1-based) from dump --json.
frame_offset() {
    python3 -c '
import json, sys
n = int(sys.argv[1])
fr = [o for o in map(json.loads, sys.stdin) if o["type"] == "frame"]
print(fr[n - 1]["offset"])' "$2" <"$1"
}
# Flip the byte at offset OFF of FILE (xor 0x01).
flip() {
    python3 -c '
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[off] ^= 1
open(p, "wb").write(bytes(b))' "$1" "$2"
}

"$MKLOG" "$T/good.log" --feeds 3 --changesets 4 --all-types || { echo "FAIL: mklog"; exit 1; }

# 1. A good log is valid; the summary counts what mklog wrote.
expect_rc 0 "verify good" "$VERIFY" "$T/good.log"
expect_in "$T/out" "verify good" "16 frames, 3 feeds, 12 change-sets"
expect_in "$T/out" "verify good" ": valid"
expect_rc 0 "verify --json good" "$VERIFY" --json "$T/good.log"
json_ok "$T/out" || fail "verify --json output is not JSON lines"
expect_rc 0 "verify --quiet good" "$VERIFY" --quiet "$T/good.log"
[ -s "$T/out" ] && fail "verify --quiet printed on a good log"

# 2. Dump: every frame type, escaping, and JSON lines that parse.
expect_rc 0 "dump good" "$DUMP" "$T/good.log"
cp "$T/out" "$T/dump.txt"
for s in "changeset (0x81)" "cert (0x82)" "revocation (0x84)" \
         "checkpoint (0x85)" "rotation (0x83)" "张三" '\x1b[31m' \
         '\u{202e}' '\n' "upsert clients" "delete services" \
         "int -9223372036854775808" "role station (4)" "2026-11-23T00:00:"; do
    expect_in "$T/dump.txt" "dump good" "$s"
done
grep -q $'\x1b' "$T/dump.txt" && fail "dump printed a raw escape character"
expect_rc 0 "dump --json good" "$DUMP" --json "$T/good.log"
cp "$T/out" "$T/dump.json"
json_ok "$T/dump.json" || fail "dump --json output is not JSON lines"
python3 - "$T/dump.json" <<'PY' || fail "dump --json content"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
frames = [o for o in objs if o["type"] == "frame"]
recs = [o for o in objs if o["type"] == "record"]
assert len(frames) == 16, len(frames)
assert all(f["valid"] for f in frames)
assert isinstance(frames[0]["hlc"], str) and int(frames[0]["hlc"]) > 2**53
assert frames[0]["seq"] == 1 and len(frames[0]["feed"]) == 64
vals = {v["column"]: v for v in recs[0]["values"]}
assert vals["visits"]["value"] == 42, vals["visits"]
assert vals["over53"]["value"] == "9007199254740993", vals["over53"]
assert vals["big"]["value"] == "-9223372036854775808"
assert vals["score"]["value"] == 3.25
assert vals["gone"]["value"] is None
assert vals["name"]["value"] == "张三"
assert vals["notes"]["value"].startswith("line1\nline2\t\"q\" \\ \x1b[31m")
assert vals["photo"]["value"].startswith("010203feff") and len(vals["photo"]["value"]) == 80
PY

# 3. One flipped byte inside frame 5 (later frames intact): corruption at
#    frame 5's offset, exit 1, from both tools.
OFF5=$(frame_offset "$T/dump.json" 5)
cp "$T/good.log" "$T/flip.log"
flip "$T/flip.log" $((OFF5 + 8 + 130))
expect_rc 1 "verify flipped" "$VERIFY" "$T/flip.log"
expect_in "$T/out" "verify flipped" "flip.log:$OFF5: "
expect_in "$T/out" "verify flipped" "(SWLOG_ECORRUPT)"
expect_in "$T/out" "verify flipped" "INVALID"
expect_rc 1 "dump flipped" "$DUMP" "$T/flip.log"
expect_in "$T/err" "dump flipped" "swsync-dump: $T/flip.log:$OFF5: "

# 4. A flipped signature byte with a recomputed CRC: the frame is intact on
#    disk but not authentic: SWLOG_ESIG naming feed and seq.
OFF7=$(frame_offset "$T/dump.json" 7)
cp "$T/good.log" "$T/sig.log"
python3 - "$T/sig.log" "$OFF7" <<'PY'
import sys
def crc32c(data, crc=0xFFFFFFFF):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
salt = bytes(b[12:28])
blen = int.from_bytes(b[off + 4:off + 8], "big")
body = off + 8
hlen = int.from_bytes(b[body + 2:body + 4], "big")
b[body + hlen + 10] ^= 0x40          # inside the signature
crc = crc32c(salt + bytes(b[off:off + 8 + blen]))
b[off + 8 + blen:off + 12 + blen] = crc.to_bytes(4, "big")
open(p, "wb").write(bytes(b))
PY
expect_rc 1 "verify bad signature" "$VERIFY" "$T/sig.log"
expect_in "$T/out" "verify bad signature" "(SWLOG_ESIG)"
expect_in "$T/out" "verify bad signature" " seq 3: "
grep -qE "sig.log:[0-9]+: feed [0-9a-f]{4}…[0-9a-f]{2} seq 3: .*\(SWLOG_ESIG\)" "$T/out" ||
    fail "verify bad signature: line format"
[ "$(grep -c 'SWLOG_E' "$T/out")" -eq 1 ] ||
    fail "verify bad signature: one bad frame must give one problem"
expect_rc 1 "dump bad signature" "$DUMP" "$T/sig.log"
expect_in "$T/out" "dump bad signature" "INVALID (SWLOG_ESIG)"
expect_in "$T/out" "dump bad signature" "not authentic"

# 4b. A frame removed whole (the others keep their CRCs): a gap in feed 1,
#     reported once at the next frame of that feed, not at every later one.
OFF4=$(frame_offset "$T/dump.json" 4)
cp "$T/good.log" "$T/gap.log"
python3 - "$T/gap.log" "$OFF4" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
blen = int.from_bytes(b[off + 4:off + 8], "big")
del b[off:off + 12 + blen]
open(p, "wb").write(bytes(b))
PY
expect_rc 1 "verify gap" "$VERIFY" "$T/gap.log"
expect_in "$T/out" "verify gap" " seq 3: "
expect_in "$T/out" "verify gap" "(SWLOG_ESEQ)"
[ "$(grep -c 'SWLOG_E' "$T/out")" -eq 1 ] ||
    fail "verify gap: one missing frame must give one problem"
expect_in "$T/out" "verify gap" "15 frames"

# 5. The last frame cut short: a torn tail, exit 3, valid frames counted.
cp "$T/good.log" "$T/torn.log"
SIZE=$(stat -c %s "$T/torn.log")
truncate -s $((SIZE - 5)) "$T/torn.log"
expect_rc 3 "verify torn" "$VERIFY" "$T/torn.log"
expect_in "$T/out" "verify torn" "15 frames"
expect_in "$T/out" "verify torn" "torn tail"
expect_rc 3 "dump torn" "$DUMP" --json "$T/torn.log"
json_ok "$T/out" || fail "dump --json on a torn log is not JSON lines"
expect_in "$T/err" "dump torn" "swsync-dump: $T/torn.log:"

# 6. Forks: the same feed and seq with two different frames across files.
"$MKLOG" "$T/a.log" --feeds 2 --changesets 4 || fail "mklog a"
"$MKLOG" "$T/b.log" --feeds 2 --changesets 4 --fork-at 3 || fail "mklog b"
expect_rc 0 "verify b alone" "$VERIFY" "$T/b.log"
expect_rc 1 "verify fork" "$VERIFY" "$T/a.log" "$T/b.log"
expect_in "$T/out" "verify fork" "fork"
expect_in "$T/out" "verify fork" "seq 3: "
expect_in "$T/out" "verify fork" "(SWLOG_EFORK)"
expect_rc 0 "verify same file twice" "$VERIFY" "$T/a.log" "$T/a.log"
expect_rc 1 "verify fork --json" "$VERIFY" --json "$T/a.log" "$T/b.log"
json_ok "$T/out" || fail "verify --json on a fork is not JSON lines"
expect_in "$T/out" "verify fork --json" '"code":"SWLOG_EFORK"'

# 7. Usage and I/O errors: exit 2; a data problem elsewhere still wins.
expect_rc 2 "verify no args" "$VERIFY"
expect_rc 2 "verify bad option" "$VERIFY" --frobnicate "$T/a.log"
expect_rc 2 "verify missing file" "$VERIFY" "$T/missing.log"
expect_rc 1 "verify missing + flipped" "$VERIFY" "$T/missing.log" "$T/flip.log"
expect_rc 2 "dump no args" "$DUMP"
expect_rc 0 "verify --help" "$VERIFY" --help
expect_in "$T/out" "verify --help" "Exit status"
printf 'not a log at all, but long enough to hold a header' >"$T/junk.log"
expect_rc 1 "verify junk" "$VERIFY" "$T/junk.log"
expect_in "$T/out" "verify junk" "(SWLOG_EMAGIC)"

# 8. The spec's file and chain vectors, made independently of this code
#    (FORMAT §12): the exit status, and the first problem's code and offset.
VECTORS=${2:?source dir}/spec/vectors/vectors.txt
if [ ! -f "$VECTORS" ]; then
    fail "no $VECTORS"
else
    python3 - "$VECTORS" "$VERIFY" "$T" "$DUMP" <<'PY' || fail "spec vectors"
import json, os, re, subprocess, sys
path, verify, tmp, dump = sys.argv[1:5]
blocks, cur = [], {}
for line in open(path, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        if cur:
            blocks.append(cur)
        cur = {}
    elif not line.startswith("#"):
        k, _, v = line.partition(" ")
        cur.setdefault(k, v)
if cur:
    blocks.append(cur)
n = bad = 0
for b in blocks:
    if b.get("kind") not in ("file", "chain"):
        continue
    n += 1
    f = os.path.join(tmp, "vec.log")
    with open(f, "wb") as out:
        out.write(bytes.fromhex(b["hex"]))
    p = subprocess.run([verify, f], capture_output=True, text=True)
    if "Sanitizer" in p.stderr or "runtime error" in p.stderr:
        bad += 1
        print("  vector %s: sanitizer report: %s" % (b["vector"], p.stderr[:300]))
        continue
    exp = b["expect"].split()
    if exp[0] == "ok":
        ok = p.returncode == (3 if int(b.get("torn", "0")) > 0 else 0)
    else:
        first = re.search(r"vec\.log:(\d+): .*\((SWLOG_\w+)\)$", p.stdout, re.M)
        ok = (p.returncode == 1 and first is not None
              and first.group(2) == exp[0]
              and (len(exp) < 2 or first.group(1) == exp[1][1:]))
    if not ok:
        bad += 1
        print("  vector %s: expect %s, got exit %d: %s"
              % (b["vector"], b["expect"], p.returncode, p.stdout.strip()[:300]))
    # swsync-dump agrees on the status and its JSON lines parse.
    for args in ([dump, "--json", f], [dump, f]):
        d = subprocess.run(args, capture_output=True)
        try:
            if "--json" in args:
                [json.loads(l) for l in d.stdout.decode("utf-8").splitlines()]
            else:
                d.stdout.decode("utf-8")
        except ValueError as e:
            bad += 1
            print("  vector %s: %s output: %s" % (b["vector"], args[1], e))
        if d.returncode != p.returncode or b"Sanitizer" in d.stderr:
            bad += 1
            print("  vector %s: dump exit %d, verify %d"
                  % (b["vector"], d.returncode, p.returncode))
print("%d file/chain vectors, %d failed" % (n, bad))
sys.exit(1 if bad or n == 0 else 0)
PY
fi

# 9. Every valid body vector, put in a file: swsync-dump --json must show
#    what its desc lines say (FORMAT §12.1), field by field.
if [ -f "$VECTORS" ]; then
    python3 - "$VECTORS" "$DUMP" "$T" <<'PY' || fail "body vectors through dump"
import json, os, struct, subprocess, sys
path, dump, tmp = sys.argv[1:4]

def crc32c(data, crc=0xFFFFFFFF):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def as_file(body):
    salt = bytes(range(16))
    head = b"\x89SWLOG\r\n" + b"\x00\x01\x00\x00" + salt
    head += crc32c(head).to_bytes(4, "big")
    env = b"\xf5\x1e\x00\x00" + len(body).to_bytes(4, "big") + body
    return head + env + crc32c(salt + env).to_bytes(4, "big")

def value_desc(v):
    t, x = v["value_type"], v["value"]
    if t == "null":
        return "null"
    if t == "int":
        return "int:%d" % int(x)
    if t == "real":
        x = float(x) if isinstance(x, str) else float(x)
        return "real:" + struct.pack(">d", x).hex()
    if t == "text":
        return "text:" + x.encode("utf-8").hex()
    return "blob:" + x

def describe(objs):
    out = []
    for o in objs:
        if o["type"] == "frame":
            out.append("frame %s seq=%d hlc=%d"
                       % (o["frame_type"], int(o["seq"]), int(o["hlc"])))
            t = o["frame_type"]
            if t == "changeset":
                out.append("changeset schema=%d records=%d author=%s"
                           % (o["schema_version"], o["record_count"],
                              o["author"].encode("utf-8").hex()))
            elif t == "cert":
                out.append("cert subject=%s role=%d from=%d until=%d unit=%s"
                           % (o["subject"], o["role"], int(o["valid_from"]),
                              int(o["valid_until"]), o["unit"]))
            elif t == "rotation":
                out.append("rotation new=%s" % o["new_key"])
            elif t == "revocation":
                out.append("revocation subject=%s from_seq=%d from_time=%d reason=%d"
                           % (o["subject"], int(o["from_seq"]),
                              int(o["from_time"]), o["reason"]))
            elif t == "checkpoint":
                out.append("checkpoint size=%d root=%s"
                           % (int(o["tree_size"]), o["root"]))
        elif o["type"] == "record":
            line = "record %s %s %s hlc=%d" % (o["kind"], o["table"],
                                               o["row_id"], int(o["hlc"]))
            if o["kind"] == "delete":
                line += " replaced=%d" % int(o["replaced_hlc"])
            out.append(line)
            for v in o.get("values", []):
                r = v["replaced_hlc"]
                out.append("value %s replaced=%d %s"
                           % (v["column"], 0 if r is None else int(r),
                              value_desc(v)))
    return out

blocks, cur = [], None
for line in open(path, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        cur = None
        continue
    if line.startswith("#"):
        continue
    k, _, v = line.partition(" ")
    if k == "vector":
        cur = {"vector": v, "desc": []}
        blocks.append(cur)
    elif cur is not None:
        if k == "desc":
            cur["desc"].append(v)
        else:
            cur.setdefault(k, v)
n = bad = 0
for b in blocks:
    if b.get("kind") != "body" or b.get("expect") != "ok":
        continue
    n += 1
    f = os.path.join(tmp, "body.log")
    with open(f, "wb") as out:
        out.write(as_file(bytes.fromhex(b["hex"])))
    d = subprocess.run([dump, "--json", f], capture_output=True)
    got = describe(json.loads(l) for l in d.stdout.decode("utf-8").splitlines())
    if d.returncode != 0 or got != b["desc"]:
        bad += 1
        print("  vector %s: dump exit %d" % (b["vector"], d.returncode))
        for w, g in zip(b["desc"] + [""] * len(got), got + [""] * len(b["desc"])):
            if w != g:
                print("    want %s\n    got  %s" % (w, g))
                break
print("%d body vectors through dump, %d failed" % (n, bad))
sys.exit(1 if bad or n == 0 else 0)
PY
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all tools checks passed"
