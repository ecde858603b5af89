#!/usr/bin/env python3
"""Generate the swsync log-format test vectors (spec/FORMAT.md §12).

This is an encoder for FORMAT.md written from the document alone, independent
of the C library in format/. It prints spec/vectors/vectors.txt to stdout:

    /usr/bin/python3 spec/vectors/gen_vectors.py > spec/vectors/vectors.txt

Output is deterministic: keys and salts come from fixed seeds (FORMAT §12),
Ed25519 signatures are deterministic, and nothing reads the clock.

Dependencies: the Python standard library and PyNaCl (nacl.signing).
The companion check_vectors.py decodes the output with an independent decoder
and asserts every expected outcome.
"""

import calendar
import hashlib
import struct
import sys

from nacl.signing import SigningKey

# --- Limits (FORMAT §10) -------------------------------------------------

MAX_BODY = 4194304
MAX_HEADER = 1024
MAX_RECORDS = 10000
MAX_TABLES = 64
MAX_COLUMNS = 128
MAX_DICT_COLUMNS = 1024
MAX_NAME = 64
MAX_AUTHOR = 64
MAX_UNIT = 32
MAX_TEXT = 65536
MAX_BLOB = 1048576
MAX_PROOF = 64

# --- Constants --------------------------------------------------------------

FILE_MAGIC = b"\x89SWLOG\r\n"  # 89 53 57 4c 4f 47 0d 0a
FRAME_MARKER = b"\xf5\x1e"
COMMON = 120  # bytes of the common signed header (§4.1)

T_CHANGESET, T_CERT, T_ROTATION, T_REVOCATION, T_CHECKPOINT = 0x81, 0x82, 0x83, 0x84, 0x85
ROLE_ROOT, ROLE_PROVINCE, ROLE_COUNTY, ROLE_STATION = 1, 2, 3, 4

CTX_FRAME_ID = "swsync/frame-id/v1"
CTX_SIG = "swsync/sig/v1"
CTX_PAYLOAD = "swsync/payload/v1"
CTX_ROTATE = "swsync/rotate/v1"

ZERO32 = bytes(32)
U64_MAX = 2**64 - 1


# --- Primitives (FORMAT §1.2, §2) ------------------------------------------

def sha256(data):
    return hashlib.sha256(data).digest()


def H(ctx, msg):
    """H(ctx, m) = SHA-256(ctx || 0x00 || m)  (FORMAT §2.1)."""
    return sha256(ctx.encode("ascii") + b"\x00" + msg)


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C, reflected poly 0x82F63B78, init and final XOR 0xFFFFFFFF."""
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def u8(n):
    return struct.pack(">B", n)


def u16(n):
    return struct.pack(">H", n)


def u32(n):
    return struct.pack(">I", n)


def u64(n):
    return struct.pack(">Q", n)


def varint(n):
    """Minimal unsigned LEB128 (FORMAT §1.2)."""
    assert 0 <= n <= U64_MAX
    out = bytearray()
    while True:
        group = n & 0x7F
        n >>= 7
        if n:
            out.append(group | 0x80)
        else:
            out.append(group)
            return bytes(out)


def zigzag(n):
    assert -2**63 <= n < 2**63
    return ((n << 1) ^ (n >> 63)) & U64_MAX


# --- Keys, salts, ids, times (FORMAT §12) -------------------------------------

class Key:
    def __init__(self, i):
        self.i = i
        self.seed = sha256(b"swsync test key " + str(i).encode())
        self._sk = SigningKey(self.seed)
        self.pk = bytes(self._sk.verify_key)

    def sign(self, msg):
        return self._sk.sign(msg).signature


KEYS = {i: Key(i) for i in range(1, 10)}
ROOT, COUNTY, STATION, STATION2, NEWSTATION, HUB, PROVINCE = (
    KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])


def salt_for(name):
    return sha256(b"swsync test salt " + name.encode())[:16]


def ms_of(y, mo, d, h=0, mi=0, s=0):
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1000


def hlc_of(ms, counter=0):
    return (ms << 16) | counter


T_SEAL = ms_of(2026, 3, 1, 8, 30, 0)          # 2026-03-01T08:30:00Z
HLC_SEAL = hlc_of(T_SEAL, 3)
VALID_FROM = ms_of(2026, 1, 1)
VALID_UNTIL = ms_of(2031, 1, 1)


def uuid7(label, ms):
    """A fixed, v7-looking UUID: 48-bit ms, version 7, variant 10."""
    r = sha256(b"swsync test uuid " + label.encode())
    b = bytearray(u64(ms)[2:] + r[:10])
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return bytes(b)


def uuid_text(b):
    h = b.hex()
    return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))


def fake_id(label):
    """A stand-in frame id for a prev link when the frame itself is not shown."""
    return sha256(b"swsync test prev " + label.encode())


# --- Frame bodies (FORMAT §4) -------------------------------------------------

TYPE_NAMES = {T_CHANGESET: "changeset", T_CERT: "cert", T_ROTATION: "rotation",
              T_REVOCATION: "revocation", T_CHECKPOINT: "checkpoint"}


class Frame:
    """A built body plus what the vectors say about it."""

    def __init__(self, body, fid, ftype, signer, seq, hlc, header_len, desc):
        self.body = body
        self.id = fid
        self.type = ftype
        self.signer = signer
        self.seq = seq
        self.hlc = hlc
        self.header_len = header_len
        self.desc = desc


def build_body(key, ftype, seq, prev, hlc, type_fields=b"", payload=b"", *,
               desc=(), layout=1, header_len=None, payload_len=None,
               payload_hash=None, signer=None, sign_with=None,
               signature=None, trailing=b""):
    """Encode signed_header || signature || payload (FORMAT §4.1).

    Every override exists to build a negative vector; unless `signature` or
    `sign_with` is given, the signature is valid over the header as written,
    so a vector fails for its stated reason and not for its signature.
    """
    signer = key.pk if signer is None else signer
    hl = COMMON + len(type_fields) if header_len is None else header_len
    pl = len(payload) if payload_len is None else payload_len
    ph = H(CTX_PAYLOAD, payload) if payload_hash is None else payload_hash
    header = (u8(ftype) + u8(layout) + u16(hl) + signer + u64(seq) + prev +
              u64(hlc) + u32(pl) + ph + type_fields)
    assert len(header) == COMMON + len(type_fields)  # offsets of §4.1
    fid = H(CTX_FRAME_ID, header[:hl])
    if signature is None:
        msg = CTX_SIG.encode() + b"\x00" + fid
        assert len(msg) == 46  # §2.2
        signature = (sign_with or key).sign(msg)
    body = header + signature + payload + trailing
    name = TYPE_NAMES.get(ftype, "unknown")
    lines = ["frame %s seq=%d hlc=%d" % (name, seq, hlc)] + list(desc)
    return Frame(body, fid, ftype, signer, seq, hlc, hl, lines)


# --- Change-set payloads (FORMAT §5) --------------------------------------------

class Writer:
    """Byte buffer that remembers where named fields start."""

    def __init__(self):
        self.buf = bytearray()
        self.at = {}

    def mark(self, name):
        self.at[name] = len(self.buf)

    def put(self, name, data):
        if name:
            self.mark(name)
        self.buf += data

    def vi(self, name, v):
        """A varint field; v may be raw bytes (for a non-minimal encoding)."""
        self.put(name, v if isinstance(v, (bytes, bytearray)) else varint(v))

    def byte(self, name, v):
        self.put(name, v if isinstance(v, (bytes, bytearray)) else u8(v))


def encode_payload(tables, records, table_count=None):
    """Low-level change-set payload writer (FORMAT §5.2), no checks at all.

    tables: list of dicts {name, cols, [name_len], [cc]}; table_count may
      be given (an int or raw varint bytes) to disagree with len(tables)
    records: list of dicts {kind, ti, row, delta, values | rep, [vc]}
      value: {ci, tag, [rep], data} or {ci, tag, [rep], len, bytes}
    Returns (payload, offsets) where offsets name each field, e.g. "t1.name",
    "t0.c2.name", "r0.kind", "r0.v1.tag", "r1.rep", "end".
    """
    w = Writer()
    w.vi("table_count", len(tables) if table_count is None else table_count)
    for i, t in enumerate(tables):
        w.byte("t%d.name_len" % i, t.get("name_len", len(t["name"])))
        w.put("t%d.name" % i, t["name"])
        w.vi("t%d.cc" % i, t.get("cc", len(t["cols"])))
        for j, c in enumerate(t["cols"]):
            w.byte("t%d.c%d.len" % (i, j), len(c))
            w.put("t%d.c%d.name" % (i, j), c)
    for k, r in enumerate(records):
        p = "r%d." % k
        w.byte(p + "kind", r["kind"])
        w.vi(p + "ti", r["ti"])
        w.put(p + "row", r["row"])
        w.vi(p + "delta", r["delta"])
        if "values" in r:
            w.vi(p + "vc", r.get("vc", len(r["values"])))
            for j, v in enumerate(r["values"]):
                q = p + "v%d." % j
                w.vi(q + "ci", v["ci"])
                w.byte(q + "tag", v["tag"])
                if v.get("rep") is not None:
                    w.vi(q + "rep", v["rep"])
                w.mark(q + "data")
                if "len" in v:
                    w.vi(q + "len", v["len"])
                    w.put(q + "bytes", v["bytes"])
                else:
                    w.put(None, v.get("data", b""))
        else:
            w.vi(p + "rep", r["rep"])
    w.mark("end")
    return bytes(w.buf), w.at


# Values of the record model: (type, python value).
NULL = ("null", None)


def INT(n):
    return ("int", n)


def REAL(x):
    return ("real", struct.pack(">d", x) if isinstance(x, float) else x)


def TEXT(s):
    return ("text", s.encode("utf-8") if isinstance(s, str) else s)


def BLOB(b):
    return ("blob", b)


VTYPE = {"null": 0, "int": 1, "real": 2, "text": 3, "blob": 4}


def value_ll(ci, val, rep):
    """One value in low-level form, and its desc text."""
    t, x = val
    v = {"ci": ci, "tag": VTYPE[t] | (0x08 if rep else 0), "rep": rep or None}
    if t == "null":
        d = "null"
    elif t == "int":
        v["data"] = varint(zigzag(x))
        d = "int:%d" % x
    elif t == "real":
        v["data"] = x
        d = "real:" + x.hex()
    else:
        v["len"] = len(x)
        v["bytes"] = x
        d = "%s:%s" % (t, x.hex())
    return v, d


class Upsert:
    def __init__(self, table, row, hlc, values):
        self.table, self.row, self.hlc = table, row, hlc
        self.values = values  # list of (column, value, replaced_hlc or 0)


class Delete:
    def __init__(self, table, row, hlc, replaced=0):
        self.table, self.row, self.hlc, self.replaced = table, row, hlc, replaced


def changeset_ll(frame_hlc, records):
    """Canonical dictionary and low-level records for a list of model records,
    plus the desc lines (FORMAT §5.3: sorted, exactly the used entries)."""
    used = {}
    for r in records:
        cols = used.setdefault(r.table.encode(), set())
        if isinstance(r, Upsert):
            cols.update(c.encode() for c, _, _ in r.values)
    names = sorted(used)
    tables = [{"name": n, "cols": sorted(used[n])} for n in names]
    recs, desc = [], []
    for r in records:
        ti = names.index(r.table.encode())
        delta = frame_hlc - r.hlc
        assert 0 <= delta
        if isinstance(r, Delete):
            recs.append({"kind": 2, "ti": ti, "row": r.row, "delta": delta,
                         "rep": r.replaced})
            desc.append("record delete %s %s hlc=%d replaced=%d"
                        % (r.table, uuid_text(r.row), r.hlc, r.replaced))
            continue
        cols = tables[ti]["cols"]
        vals = sorted(((cols.index(c.encode()), v, rep) for c, v, rep in r.values),
                      key=lambda e: e[0])
        lls, vdesc = [], []
        for ci, v, rep in vals:
            ll, d = value_ll(ci, v, rep)
            lls.append(ll)
            vdesc.append("value %s replaced=%d %s" % (cols[ci].decode(), rep, d))
        recs.append({"kind": 1, "ti": ti, "row": r.row, "delta": delta, "values": lls})
        desc.append("record upsert %s %s hlc=%d" % (r.table, uuid_text(r.row), r.hlc))
        desc.extend(vdesc)
    return tables, recs, desc


def cs_fields(author, records, schema=1, author_len=None, extra=b""):
    """Change-set type fields (FORMAT §5.1)."""
    a = author.encode("utf-8") if isinstance(author, str) else author
    n = len(a) if author_len is None else author_len
    return u32(schema) + u32(records) + u8(n) + a + extra


def changeset(key, seq, prev, hlc, records, author="nurse.li", schema=1):
    tables, recs, desc = changeset_ll(hlc, records)
    payload, _ = encode_payload(tables, recs)
    a = author.encode("utf-8")
    head = "changeset schema=%d records=%d author=%s" % (schema, len(records), a.hex())
    return build_body(key, T_CHANGESET, seq, prev, hlc, cs_fields(a, len(records), schema),
                      payload, desc=[head] + desc)


# --- Certificates, rotation, revocation, checkpoint (FORMAT §7) ------------

def cert_fields(subject, role, vfrom, vuntil, unit, unit_len=None):
    u = unit.encode() if isinstance(unit, str) else unit
    assert COMMON + 50 == 170  # unit code at offset 170 (§7.2)
    return (subject + u8(role) + u64(vfrom) + u64(vuntil) +
            u8(len(u) if unit_len is None else unit_len) + u)


def cert(key, seq, prev, hlc, subject, role, unit, vfrom=VALID_FROM, vuntil=VALID_UNTIL):
    d = "cert subject=%s role=%d from=%d until=%d unit=%s" % (
        subject.hex(), role, vfrom, vuntil, unit)
    return build_body(key, T_CERT, seq, prev, hlc,
                      cert_fields(subject, role, vfrom, vuntil, unit), desc=[d])


def rotate_msg(old_pk, seq, new_pk):
    msg = CTX_ROTATE.encode() + b"\x00" + old_pk + u64(seq) + new_pk
    assert len(msg) == 89  # §7.3
    return msg


def rotation(key, seq, prev, hlc, new):
    sig = new.sign(rotate_msg(key.pk, seq, new.pk))
    return build_body(key, T_ROTATION, seq, prev, hlc, new.pk + sig,
                      desc=["rotation new=%s" % new.pk.hex()])


def revocation_fields(subject, from_seq, from_time, reason):
    return subject + u64(from_seq) + u64(from_time) + u8(reason)


def revocation(key, seq, prev, hlc, subject, from_seq, from_time, reason):
    d = "revocation subject=%s from_seq=%d from_time=%d reason=%d" % (
        subject.hex(), from_seq, from_time, reason)
    return build_body(key, T_REVOCATION, seq, prev, hlc,
                      revocation_fields(subject, from_seq, from_time, reason), desc=[d])


def checkpoint(key, seq, prev, hlc, size, root):
    return build_body(key, T_CHECKPOINT, seq, prev, hlc, u64(size) + root,
                      desc=["checkpoint size=%d root=%s" % (size, root.hex())])


# --- Files (FORMAT §3) ------------------------------------------------------------

def file_header(salt, magic=FILE_MAGIC, version=1, reserved=0, crc=None):
    h = magic + u16(version) + u16(reserved) + salt
    return h + u32(crc32c(h) if crc is None else crc)


def envelope(salt, body, marker=FRAME_MARKER, reserved=0, body_len=None, crc=None):
    head = marker + u16(reserved) + u32(len(body) if body_len is None else body_len)
    return head + body + u32(crc32c(salt + head + body) if crc is None else crc)


def log_file(name, bodies):
    """A well-formed file; returns (bytes, list of envelope offsets)."""
    salt = salt_for(name)
    out = bytearray(file_header(salt))
    offs = []
    for b in bodies:
        offs.append(len(out))
        out += envelope(salt, b)
    return bytes(out), offs


class Feed:
    """Successive frames of one key, chained by prev (FORMAT §8.1)."""

    def __init__(self, key, seq=1, prev=ZERO32):
        self.key, self.seq, self.prev = key, seq, prev

    def add(self, frame):
        assert frame.seq == self.seq and frame.signer == self.key.pk
        self.seq += 1
        self.prev = frame.id
        return frame

    def changeset(self, hlc, records, **kw):
        return self.add(changeset(self.key, self.seq, self.prev, hlc, records, **kw))


# --- Merkle tree (FORMAT §9, RFC 9162 §2.1) -----------------------------------

def leaf(i):
    return sha256(u64(i))


def _k(n):
    """Largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(d):
    if not d:
        return sha256(b"")
    if len(d) == 1:
        return sha256(b"\x00" + d[0])
    k = _k(len(d))
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def consistency_proof(m, d):
    return subproof(m, d, True)


# --- Output ---------------------------------------------------------------------------

class Out:
    def __init__(self):
        self.lines = []
        self.names = set()
        self.count = {}

    def comment(self, text):
        self.lines.append("# " + text)
        self.lines.append("")

    def vector(self, name, kind, expect, fields):
        assert name not in self.names, name
        self.names.add(name)
        self.count[kind] = self.count.get(kind, 0) + 1
        self.lines.append("vector " + name)
        self.lines.append("kind " + kind)
        self.lines.append("expect " + expect)
        for k, v in fields:
            v = str(v)
            self.lines.append(k + (" " + v if v != "" else ""))
        self.lines.append("")

    def text(self):
        return "\n".join(self.lines)


def err(code, at=None):
    return "SWLOG_" + code + ("" if at is None else " @%d" % at)


def body_ok(out, name, f):
    fields = [("hex", f.body.hex()), ("frame_id", f.id.hex()), ("type", "%02x" % f.type),
              ("signer", f.signer.hex()), ("seq", f.seq)]
    fields += [("desc", d) for d in f.desc]
    out.vector(name, "body", "ok", fields)


def body_err(out, name, body, code, at):
    if isinstance(body, Frame):
        body = body.body
    out.vector(name, "body", err(code, at), [("hex", body.hex())])


# ===========================================================================
# The vectors
# ===========================================================================

def gen_crc(out):
    out.comment("crc32c: FORMAT §2.4; RFC 3720 B.4")
    cases = [
        ("crc32c_check_123456789", b"123456789"),
        ("crc32c_empty", b""),
        ("crc32c_rfc3720_zeros32", bytes(32)),
        ("crc32c_rfc3720_ones32", b"\xff" * 32),
        ("crc32c_rfc3720_incrementing", bytes(range(32))),
        ("crc32c_rfc3720_decrementing", bytes(range(31, -1, -1))),
        ("crc32c_one_zero_byte", b"\x00"),
        ("crc32c_file_magic", FILE_MAGIC),
    ]
    known = {"crc32c_check_123456789": 0xE3069283, "crc32c_rfc3720_zeros32": 0x8A9136AA,
             "crc32c_rfc3720_ones32": 0x62A8AB43, "crc32c_rfc3720_incrementing": 0x46DD794E,
             "crc32c_rfc3720_decrementing": 0x113FDB5C, "crc32c_empty": 0}
    for name, data in cases:
        c = crc32c(data)
        if name in known:
            assert c == known[name], name
        out.vector(name, "crc32c", "ok", [("input", data.hex()), ("crc", "%08x" % c)])


def gen_varint(out):
    out.comment("varint: FORMAT §1.2; errors are reported at the varint's first byte")
    for v in [0, 1, 127, 128, 300, 16383, 16384, 2**32, 2**63, U64_MAX]:
        out.vector("varint_%d" % v, "varint", "ok", [("hex", varint(v).hex()), ("value", v)])
    assert varint(300) == b"\xac\x02" and varint(128) == b"\x80\x01"
    bad = [
        ("varint_nonminimal_80_00", "8000", "ENONCANON"),
        ("varint_nonminimal_ff_00", "ff00", "ENONCANON"),
        ("varint_nonminimal_zero_three_bytes", "808000", "ENONCANON"),
        ("varint_nonminimal_10_bytes_ends_00", "ffffffffffffffffff00", "ENONCANON"),
        ("varint_overflow_10th_byte_02", "ffffffffffffffffff02", "ENONCANON"),
        ("varint_overflow_10th_byte_7f", "ffffffffffffffffff7f", "ENONCANON"),
        ("varint_11_bytes", "ffffffffffffffffff8101", "ENONCANON"),
        ("varint_10th_byte_continues_then_ends", "ffffffffffffffffff81", "ENONCANON"),
        ("varint_truncated_80", "80", "ESHORT"),
        ("varint_truncated_ff_ff", "ffff", "ESHORT"),
        ("varint_empty", "", "ESHORT"),
    ]
    for name, h, code in bad:
        out.vector(name, "varint", err(code, 0), [("hex", h)])
    out.vector("varint_trailing_byte", "varint", err("ENONCANON", 1), [("hex", "0000")])


# --- shared model data for change-sets -------------------------------------------

def row(label):
    return uuid7(label, T_SEAL - 3600 * 1000)


R_P1, R_P2, R_P3, R_V1 = row("patient 1"), row("patient 2"), row("patient 3"), row("visit 1")


def hlc_before(seconds, counter=0):
    return hlc_of(T_SEAL - seconds * 1000, counter)


def gen_body_ok(out):
    out.comment("body, valid: FORMAT §4-§7; desc lines per §12.1")
    st = STATION
    # change-sets
    f = changeset(st, 1, ZERO32, HLC_SEAL,
                  [Upsert("patient", R_P1, hlc_before(60), [("name", TEXT("张三"), 0)])])
    body_ok(out, "changeset_minimal", f)

    allv = Upsert("obs", R_P1, hlc_before(50, 1), [
        ("c00_null", NULL, 0),
        ("c01_int_zero", INT(0), 0),
        ("c02_int_minus_one", INT(-1), 0),
        ("c03_int_min", INT(-2**63), 0),
        ("c04_int_max", INT(2**63 - 1), 0),
        ("c05_int_300", INT(300), 0),
        ("c06_real_neg_zero", REAL(-0.0), 0),
        ("c07_real_one_half", REAL(1.5), 0),
        ("c08_real_inf", REAL(float("inf")), 0),
        ("c09_real_tiny", REAL(5e-324), 0),
        ("c10_text_cjk", TEXT("张三"), 0),
        ("c11_text_empty", TEXT(""), 0),
        ("c12_text_4byte", TEXT("\U0001f489 ok"), 0),
        ("c13_blob", BLOB(bytes(range(0, 256, 17))), 0),
        ("c14_blob_empty", BLOB(b""), 0),
    ])
    f = changeset(st, 2, fake_id("changeset 1"), HLC_SEAL, [allv], author="张三")
    body_ok(out, "changeset_all_value_types", f)

    f = changeset(st, 3, fake_id("changeset 2"), HLC_SEAL, [
        Upsert("patient", R_P1, hlc_before(40), [
            ("name", TEXT("李四"), hlc_before(7200, 2)),
            ("age", INT(43), hlc_before(7200, 2)),
            ("phone", NULL, 0),
            ("weight_kg", REAL(61.5), hlc_of(T_SEAL - 86400000 * 30, 0xffff)),
        ])])
    body_ok(out, "changeset_replaced_flags", f)

    f = changeset(st, 4, fake_id("changeset 3"), HLC_SEAL, [
        Delete("patient", R_P2, hlc_before(30), replaced=hlc_before(90000, 7)),
        Delete("patient", R_P3, hlc_before(29), replaced=0),
    ])
    body_ok(out, "changeset_deletes_with_and_without_replaced", f)

    f = changeset(st, 5, fake_id("changeset 4"), HLC_SEAL, [
        Upsert("visit", R_V1, hlc_before(20), [("patient_id", BLOB(R_P1), 0),
                                              ("reason", TEXT("发热 38.5℃"), 0)]),
        Upsert("patient", R_P1, hlc_before(19), [("name", TEXT("王五"), 0)]),
    ])
    body_ok(out, "changeset_two_tables", f)

    f = changeset(st, 6, fake_id("changeset 5"), HLC_SEAL, [
        Upsert("patient", R_P1, hlc_before(10, 0), [("name", TEXT("赵六"), 0)]),
        Upsert("patient", R_P1, hlc_before(10, 1), [("age", INT(7), 0)]),
        Upsert("patient", R_P1, hlc_before(9), [("name", TEXT("赵六六"), hlc_before(10, 0))]),
        Delete("patient", R_P1, hlc_before(8), replaced=hlc_before(9)),
    ])
    body_ok(out, "changeset_several_records_one_row", f)

    f = changeset(st, 7, fake_id("changeset 6"), HLC_SEAL, [
        Upsert("visitor", R_V1, hlc_before(5), [("b", INT(1), 0)]),
        Upsert("visit_drug", R_V1, hlc_before(5), [("a_b", INT(2), 0), ("a", INT(3), 0),
                                                  ("a0", INT(4), 0)]),
        Upsert("visit2", R_V1, hlc_before(5), [("x", INT(5), 0)]),
        Upsert("visit", R_V1, hlc_before(5), [("x", INT(6), 0)]),
    ])
    body_ok(out, "changeset_dictionary_bytewise_order", f)

    f = changeset(st, 8, fake_id("changeset 7"), HLC_SEAL, [
        Delete("audit_tmp", R_P3, hlc_before(4), replaced=0)])
    body_ok(out, "changeset_delete_only_table_without_columns", f)

    long_name = "t" + "x" * 62 + "9"
    f = changeset(st, 9, fake_id("changeset 8"), HLC_SEAL, [
        Upsert(long_name, R_P1, HLC_SEAL, [(long_name, INT(1), 0)])],
        author="a" * MAX_AUTHOR, schema=7)
    body_ok(out, "changeset_max_author_and_names_delta_zero", f)

    f = changeset(st, 10, fake_id("changeset 9"), HLC_SEAL, [
        Upsert("patient", R_P1, 0, [("name", TEXT("x"), 0)])])
    body_ok(out, "changeset_record_hlc_zero_delta_equals_frame_hlc", f)

    # certificates
    hlc_c = hlc_of(ms_of(2026, 1, 1, 9), 0)
    f = cert(ROOT, 1, ZERO32, hlc_c, ROOT.pk, ROLE_ROOT, "440000")
    body_ok(out, "cert_root_self_signed", f)
    f = cert(ROOT, 2, f.id, hlc_c + 1, PROVINCE.pk, ROLE_PROVINCE, "440000-HUB")
    body_ok(out, "cert_provincial_hub", f)
    f = cert(ROOT, 3, f.id, hlc_c + 2, COUNTY.pk, ROLE_COUNTY, "440983")
    body_ok(out, "cert_county_hub", f)
    f = cert(COUNTY, 1, ZERO32, hlc_c + 3, STATION.pk, ROLE_STATION, "440983102000-01")
    body_ok(out, "cert_station", f)
    f = cert(COUNTY, 2, f.id, hlc_c + 4, STATION2.pk, ROLE_STATION,
             "440983102000-02-abcdefghijklmnop", vfrom=VALID_FROM, vuntil=VALID_FROM + 1)
    body_ok(out, "cert_station_unit_32_bytes_until_from_plus_1", f)

    # rotation, revocation, checkpoint
    f = rotation(STATION, 42, fake_id("station 41"), HLC_SEAL, NEWSTATION)
    body_ok(out, "rotation", f)
    f = revocation(COUNTY, 3, fake_id("county 2"), HLC_SEAL, STATION2.pk, 17, 0, 2)
    body_ok(out, "revocation_by_seq", f)
    f = revocation(COUNTY, 4, f.id, HLC_SEAL + 1, STATION2.pk, 0, T_SEAL - 86400000, 1)
    body_ok(out, "revocation_by_time", f)
    f = revocation(COUNTY, 5, f.id, HLC_SEAL + 2, STATION2.pk, 3, T_SEAL, 3)
    body_ok(out, "revocation_both_bounds", f)
    f = revocation(ROOT, 4, fake_id("root 3"), HLC_SEAL, COUNTY.pk, 1, 0, 4)
    body_ok(out, "revocation_superseded_from_seq_1", f)
    f = checkpoint(HUB, 1, ZERO32, HLC_SEAL, 0, sha256(b""))
    body_ok(out, "checkpoint_empty_tree", f)
    f = checkpoint(HUB, 2, f.id, HLC_SEAL + 1, 5, mth([leaf(i) for i in range(5)]))
    body_ok(out, "checkpoint_size_5", f)

    # unknown non-critical types (§4.2)
    f = build_body(STATION, 0x10, 11, fake_id("changeset 10"), HLC_SEAL,
                   b"opaque type fields", "未来的有效载荷 future payload".encode())
    body_ok(out, "unknown_noncritical_0x10_with_payload", f)
    f = build_body(STATION, 0x7F, 12, f.id, HLC_SEAL)
    body_ok(out, "unknown_noncritical_0x7f_empty", f)
    f = build_body(STATION, 0x01, 13, f.id, HLC_SEAL, bytes(MAX_HEADER - COMMON))
    body_ok(out, "unknown_noncritical_header_len_max", f)


def gen_body_common_errors(out):
    out.comment("body, refused by the common layout (FORMAT §4.1); offsets are "
                "relative to the body")
    st = STATION
    good = changeset(st, 2, fake_id("x"), HLC_SEAL,
                     [Upsert("patient", R_P1, hlc_before(60), [("name", TEXT("张三"), 0)])])
    tf = cs_fields("nurse.li", 1)
    payload = good.body[good.header_len + 64:]
    hl = good.header_len

    def cs(seq=2, **kw):
        """The change-set `good`, re-signed with one field overridden."""
        return build_body(st, T_CHANGESET, seq, fake_id("x"), HLC_SEAL, tf, payload, **kw)

    body_err(out, "body_empty", b"", "ESHORT", 0)
    body_err(out, "body_short_119", good.body[:119], "ESHORT", 0)
    body_err(out, "body_layout_2", cs(layout=2), "EVERSION", 1)
    body_err(out, "body_layout_0", cs(layout=0), "EVERSION", 1)
    body_err(out, "body_header_len_119", cs(header_len=119), "EBOUNDS", 2)
    big = build_body(st, 0x10, 2, fake_id("x"), HLC_SEAL, bytes(MAX_HEADER + 1 - COMMON))
    body_err(out, "body_header_len_1025", big, "EBOUNDS", 2)
    body_err(out, "body_seq_zero", cs(seq=0), "EINVAL", 36)
    body_err(out, "body_seq_1_nonzero_prev", cs(seq=1), "ENONCANON", 44)
    body_err(out, "body_payload_len_over_max", cs(payload_len=MAX_BODY + 1), "EBOUNDS", 84)
    body_err(out, "body_shorter_than_declared", good.body[:-1], "ESHORT", 0)
    body_err(out, "body_missing_signature_and_payload", good.body[:hl], "ESHORT", 0)
    body_err(out, "body_trailing_byte", good.body + b"\x00", "ENONCANON", len(good.body))
    body_err(out, "body_declared_payload_len_shorter",
             cs(payload_len=len(payload) - 1), "ENONCANON", len(good.body) - 1)
    body_err(out, "body_type_0x00_reserved",
             build_body(st, 0x00, 2, fake_id("x"), HLC_SEAL), "EINVAL", 0)
    # §5.1: a change-set payload is never empty; its table_count is missing
    body_err(out, "changeset_empty_payload",
             build_body(st, T_CHANGESET, 2, fake_id("x"), HLC_SEAL, tf, b""),
             "ESHORT", hl + 64)
    for t in (0xC0, 0x80, 0x86, 0xFF):
        body_err(out, "body_unknown_critical_%02x" % t,
                 build_body(st, t, 2, fake_id("x"), HLC_SEAL, b"", b"?"), "ECRITICAL", 0)
    body_err(out, "body_payload_hash_mismatch", cs(payload_hash=H(CTX_PAYLOAD, b"other")),
             "EHASH", 88)
    body_err(out, "body_payload_hash_without_context",
             cs(payload_hash=sha256(payload)), "EHASH", 88)
    sig = bytearray(good.body[hl:hl + 64])
    sig[10] ^= 0x01
    body_err(out, "body_bad_signature", good.body[:hl] + bytes(sig) + payload, "ESIG", hl)
    body_err(out, "body_signature_by_other_key", cs(sign_with=STATION2), "ESIG", hl)
    # S + L: same point equation, but S not canonical; strict verification refuses
    L = 2**252 + 27742317777372353535851937790883648493
    s = int.from_bytes(good.body[hl + 32:hl + 64], "little") + L
    body_err(out, "body_signature_s_not_reduced",
             good.body[:hl + 32] + s.to_bytes(32, "little") + payload, "ESIG", hl)
    # small-order public key (the identity) and R = identity, S = 0: a lax verifier accepts
    ident = b"\x01" + bytes(31)
    body_err(out, "body_signer_small_order_key",
             build_body(st, 0x10, 1, ZERO32, HLC_SEAL, signer=ident,
                        signature=ident + bytes(32)), "ESIG", COMMON)
    # signature over the header without the context prefix
    raw = build_body(st, 0x10, 2, fake_id("x"), HLC_SEAL)
    body_err(out, "body_signature_over_bare_frame_id",
             build_body(st, 0x10, 2, fake_id("x"), HLC_SEAL, signature=st.sign(raw.id)),
             "ESIG", COMMON)
    nc = build_body(st, 0x10, 2, fake_id("x"), HLC_SEAL, b"", b"payload",
                    payload_hash=H(CTX_PAYLOAD, b"payloaf"))
    body_err(out, "body_unknown_noncritical_hash_mismatch", nc, "EHASH", 88)
    nc = build_body(st, 0x10, 2, fake_id("x"), HLC_SEAL, b"", b"payload", sign_with=STATION2)
    body_err(out, "body_unknown_noncritical_bad_signature", nc, "ESIG", COMMON)
    # precedence: layout is checked before header_len, seq before payload_len, ...
    body_err(out, "body_precedence_layout_before_header_len",
             cs(layout=2, header_len=100), "EVERSION", 1)
    body_err(out, "body_precedence_seq_before_payload_len",
             cs(seq=0, payload_len=MAX_BODY + 1), "EINVAL", 36)
    body_err(out, "body_precedence_length_before_critical",
             build_body(st, 0xC0, 2, fake_id("x"), HLC_SEAL, b"", b"?", trailing=b"!"),
             "ENONCANON", COMMON + 64 + 1)
    body_err(out, "body_precedence_hash_before_signature",
             cs(payload_hash=bytes(32), sign_with=STATION2), "EHASH", 88)


def gen_body_changeset_errors(out):
    out.comment("body, change-set refused (FORMAT §5); offsets relative to the body")
    st = STATION
    hlc = HLC_SEAL
    d60 = hlc - hlc_before(60)
    name_v = {"ci": 0, "tag": 3, "len": 6, "bytes": "张三".encode()}

    def T(name, cols, **kw):
        t = {"name": name.encode() if isinstance(name, str) else name,
             "cols": [c.encode() if isinstance(c, str) else c for c in cols]}
        t.update(kw)
        return t

    def U(ti, values, row=R_P1, delta=d60, **kw):
        r = {"kind": 1, "ti": ti, "row": row, "delta": delta, "values": values}
        r.update(kw)
        return r

    def D(ti, rep=0, row=R_P2, delta=d60, kind=2):
        return {"kind": kind, "ti": ti, "row": row, "delta": delta, "rep": rep}

    def emit(name, tables, records, code, field, *, nrec=None, fields=None, trailing=b"",
             table_count=None, cut=None):
        """One refused change-set; `field` names where the error is (an offset
        in the payload from encode_payload, or an int offset in the body)."""
        payload, at = encode_payload(tables, records, table_count)
        payload += trailing
        if cut is not None:
            payload = payload[:at[cut[0]] + cut[1]]
        tf = fields if fields is not None else cs_fields(
            "nurse.li", len(records) if nrec is None else nrec)
        f = build_body(st, T_CHANGESET, 5, fake_id("cs 4"), hlc, tf, payload)
        off = at[field] if isinstance(field, str) else None
        where = f.header_len + 64 + off if off is not None else field
        body_err(out, name, f, code, where)

    base_t = [T("patient", ["name"])]
    base_r = [U(0, [name_v])]
    P = base_t, base_r

    # type fields (§5.1)
    emit("changeset_schema_version_zero", *P, "EINVAL", 120,
         fields=cs_fields("nurse.li", 1, schema=0))
    emit("changeset_record_count_zero", *P, "EINVAL", 124, fields=cs_fields("nurse.li", 0))
    emit("changeset_record_count_over_max", *P, "EBOUNDS", 124,
         fields=cs_fields("nurse.li", MAX_RECORDS + 1))
    emit("changeset_author_len_zero", *P, "EINVAL", 128, fields=cs_fields(b"", 1))
    emit("changeset_author_len_over_max", *P, "EBOUNDS", 128,
         fields=cs_fields("a" * (MAX_AUTHOR + 1), 1))
    bad_utf8 = [
        ("invalid_lead_c3_28", b"\xc3\x28"),
        ("overlong_slash", b"\xc0\xaf"),
        ("overlong_3byte", b"\xe0\x80\xaf"),
        ("surrogate_d800", b"\xed\xa0\x80"),
        ("above_10ffff", b"\xf4\x90\x80\x80"),
        ("truncated_sequence", "张".encode()[:2]),
        ("lone_continuation", b"ab\x80"),
        ("byte_ff", b"\xff"),
        ("nul_byte", b"li\x00si"),
    ]
    for label, a in bad_utf8:
        emit("changeset_author_utf8_" + label, *P, "EINVAL", 129, fields=cs_fields(a, 1))
    emit("changeset_header_len_one_byte_too_long", *P, "ENONCANON", 129 + 8,
         fields=cs_fields("nurse.li", 1, extra=b"\x00"))
    emit("changeset_author_len_overruns_header", *P, "ENONCANON", 129,
         fields=cs_fields("nurse.li", 1, author_len=9))
    emit("changeset_header_without_type_fields", *P, "ENONCANON", 120, fields=b"")

    # dictionary (§5.2, §5.3)
    emit("changeset_table_count_zero", [], base_r, "EINVAL", "table_count")
    emit("changeset_table_count_over_max", base_t, base_r, "EBOUNDS", "table_count",
         table_count=MAX_TABLES + 1)
    two = [U(0, [name_v]), U(1, [dict(name_v)], row=R_V1)]
    emit("changeset_tables_unsorted", [T("visit", ["name"]), T("patient", ["name"])], two,
         "ENONCANON", "t1.name")
    emit("changeset_tables_duplicate", [T("patient", ["name"]), T("patient", ["name"])], two,
         "ENONCANON", "t1.name")
    emit("changeset_tables_prefix_sorts_first", [T("visit_x", ["name"]), T("visit", ["name"])],
         two, "ENONCANON", "t1.name")
    emit("changeset_columns_unsorted", [T("patient", ["name", "age"])],
         [U(0, [{"ci": 0, "tag": 0}, {"ci": 1, "tag": 1, "data": b"\x02"}])],
         "ENONCANON", "t0.c1.name")
    emit("changeset_columns_duplicate", [T("patient", ["name", "name"])],
         [U(0, [{"ci": 0, "tag": 0}, {"ci": 1, "tag": 0}])], "ENONCANON", "t0.c1.name")
    emit("changeset_unused_table", [T("patient", ["name"]), T("visit", ["note"])], base_r,
         "ENONCANON", "t1.name")
    emit("changeset_unused_table_only_deletes_elsewhere",
         [T("patient", []), T("visit", [])], [D(1)], "ENONCANON", "t0.name")
    emit("changeset_unused_column", [T("patient", ["age", "name"])],
         [U(0, [{"ci": 1, "tag": 0}])], "ENONCANON", "t0.c0.name")
    emit("changeset_column_used_only_by_other_table",
         [T("patient", ["name"]), T("visit", ["name"])], [U(0, [name_v]), D(1)],
         "ENONCANON", "t1.c0.name")
    for label, nm in [("uppercase", "Patient"), ("leading_digit", "1patient"),
                      ("leading_underscore", "_patient"), ("hyphen", "pat-ient"),
                      ("non_ascii", "病人")]:
        emit("changeset_table_name_" + label, [T(nm, ["name"])], base_r, "EINVAL", "t0.name")
    emit("changeset_column_name_uppercase", [T("patient", ["Name"])], base_r, "EINVAL",
         "t0.c0.name")
    emit("changeset_table_name_len_zero", [T("", ["name"])], base_r, "EINVAL", "t0.name_len")
    emit("changeset_table_name_len_over_max", [T("t" * (MAX_NAME + 1), ["name"])], base_r,
         "EBOUNDS", "t0.name_len")
    emit("changeset_column_name_len_zero", [T("patient", [""])], base_r, "EINVAL",
         "t0.c0.len")
    emit("changeset_column_count_over_max",
         [T("patient", ["c%03d" % i for i in range(MAX_COLUMNS + 1)])], base_r, "EBOUNDS",
         "t0.cc")
    many = [T("t%d" % i, ["c%03d" % j for j in range(MAX_COLUMNS)]) for i in range(9)]
    emit("changeset_dict_columns_over_max", many, [], "EBOUNDS", "t8.cc", nrec=1)

    # records (§5.2)
    emit("changeset_table_index_out_of_range", base_t, [U(1, [name_v])], "EINVAL", "r0.ti")
    emit("changeset_kind_3", base_t, [D(0, kind=3)], "EINVAL", "r0.kind")
    emit("changeset_kind_0", base_t, [D(0, kind=0)], "EINVAL", "r0.kind")
    emit("changeset_hlc_delta_above_frame_hlc", base_t, [U(0, [name_v], delta=hlc + 1)],
         "EINVAL", "r0.delta")
    emit("changeset_hlc_delta_nonminimal", base_t, [U(0, [name_v], delta=b"\x80\x00")],
         "ENONCANON", "r0.delta")
    emit("changeset_table_count_nonminimal", base_t, base_r, "ENONCANON", "table_count",
         table_count=b"\x81\x00")
    emit("changeset_value_count_zero", base_t, [U(0, [], vc=0)], "EINVAL", "r0.vc")
    emit("changeset_value_count_above_column_count", base_t, [U(0, [name_v, name_v])],
         "EINVAL", "r0.vc")
    emit("changeset_trailing_bytes_after_records", base_t, base_r, "ENONCANON", "end",
         trailing=b"\x00")
    emit("changeset_payload_ends_inside_row_id", base_t, [D(0)], "ESHORT", "r0.row",
         cut=("r0.row", 7))
    emit("changeset_payload_ends_before_second_record", base_t, base_r, "ESHORT", "end",
         nrec=2)

    # values (§5.4)
    age = T("patient", ["age", "name"])
    emit("changeset_col_index_not_increasing", [age],
         [U(0, [{"ci": 1, "tag": 0}, {"ci": 0, "tag": 0}])], "ENONCANON", "r0.v1.ci")
    emit("changeset_col_index_repeated", [age],
         [U(0, [{"ci": 0, "tag": 0}, {"ci": 0, "tag": 0}])], "ENONCANON", "r0.v1.ci")
    emit("changeset_col_index_out_of_range", [age],
         [U(0, [{"ci": 0, "tag": 0}, {"ci": 2, "tag": 0}])], "EINVAL", "r0.v1.ci")
    emit("changeset_tag_reserved_bit_4", base_t, [U(0, [dict(name_v, tag=0x13)])],
         "ENONCANON", "r0.v0.tag")
    emit("changeset_tag_reserved_bit_7", base_t, [U(0, [{"ci": 0, "tag": 0x80}])],
         "ENONCANON", "r0.v0.tag")
    emit("changeset_tag_type_5", base_t, [U(0, [{"ci": 0, "tag": 5}])], "EINVAL", "r0.v0.tag")
    emit("changeset_tag_type_7_with_replaced", base_t, [U(0, [{"ci": 0, "tag": 0x0f, "rep": 1}])],
         "EINVAL", "r0.v0.tag")
    emit("changeset_replaced_flag_with_zero", base_t, [U(0, [dict(name_v, tag=0x0b, rep=0)])],
         "ENONCANON", "r0.v0.rep")
    emit("changeset_replaced_nonminimal", base_t,
         [U(0, [dict(name_v, tag=0x0b, rep=b"\x85\x80\x00")])], "ENONCANON", "r0.v0.rep")
    for label, bits in [("quiet", "7ff8000000000000"), ("negative", "fff8000000000000"),
                        ("signaling", "7ff0000000000001")]:
        emit("changeset_real_nan_" + label, base_t,
             [U(0, [{"ci": 0, "tag": 2, "data": bytes.fromhex(bits)}])], "EINVAL", "r0.v0.data")
    emit("changeset_int_nonminimal", base_t, [U(0, [{"ci": 0, "tag": 1, "data": b"\x82\x00"}])],
         "ENONCANON", "r0.v0.data")
    emit("changeset_text_len_nonminimal", base_t,
         [U(0, [dict(name_v, len=b"\x86\x00")])], "ENONCANON", "r0.v0.len")
    emit("changeset_text_not_utf8", base_t, [U(0, [dict(name_v, len=2, bytes=b"\xe5\xbc")])],
         "EINVAL", "r0.v0.bytes")
    emit("changeset_text_contains_nul", base_t,
         [U(0, [dict(name_v, len=3, bytes=b"a\x00b")])], "EINVAL", "r0.v0.bytes")
    emit("changeset_text_surrogate", base_t,
         [U(0, [dict(name_v, len=3, bytes=b"\xed\xb0\x80")])], "EINVAL", "r0.v0.bytes")
    emit("changeset_text_len_over_max", base_t,
         [U(0, [dict(name_v, len=MAX_TEXT + 1, bytes=b"abc")])], "EBOUNDS", "r0.v0.len")
    emit("changeset_blob_len_over_max", base_t,
         [U(0, [{"ci": 0, "tag": 4, "len": MAX_BLOB + 1, "bytes": b"\x00"}])], "EBOUNDS",
         "r0.v0.len")
    emit("changeset_text_len_past_payload_end", base_t,
         [U(0, [dict(name_v, len=7)])], "ESHORT", "r0.v0.bytes")


def gen_body_key_errors(out):
    out.comment("body, certificate / rotation / revocation / checkpoint refused (FORMAT §7)")
    hlc = HLC_SEAL

    def ct(name, code, at, **kw):
        a = dict(subject=STATION.pk, role=ROLE_STATION, vfrom=VALID_FROM, vuntil=VALID_UNTIL,
                 unit="440983102000-01")
        extra = kw.pop("extra", b"")
        a.update(kw)
        f = build_body(COUNTY, T_CERT, 2, fake_id("county 1"), hlc, cert_fields(**a) + extra)
        body_err(out, name, f, code, at)

    ct("cert_role_0", "EINVAL", 152, role=0)
    ct("cert_role_5", "EINVAL", 152, role=5)
    ct("cert_valid_until_equals_from", "EINVAL", 161, vuntil=VALID_FROM)
    ct("cert_valid_until_before_from", "EINVAL", 161, vuntil=VALID_FROM - 1)
    ct("cert_unit_len_zero", "EINVAL", 169, unit="")
    ct("cert_unit_len_over_max", "EBOUNDS", 169, unit="4" * (MAX_UNIT + 1))
    ct("cert_unit_invalid_char_underscore", "EINVAL", 170, unit="440983_01")
    ct("cert_unit_invalid_char_space", "EINVAL", 170, unit="440983 01")
    ct("cert_unit_non_ascii", "EINVAL", 170, unit="信宜-01")
    ct("cert_header_len_one_byte_too_long", "ENONCANON", 170 + 15, extra=b"\x00")
    ct("cert_unit_len_overruns_header", "ENONCANON", 170, unit="440983102000-01",
       unit_len=16)
    f = build_body(COUNTY, T_CERT, 2, fake_id("county 1"), hlc,
                   cert_fields(STATION.pk, 4, VALID_FROM, VALID_UNTIL, "440983102000-01"),
                   b"\x00")
    body_err(out, "cert_nonempty_payload", f, "ENONCANON", f.header_len + 64)

    def rot(name, code, at, new=NEWSTATION, sig=None, tf=None, seq=42, key=STATION):
        s = sig if sig is not None else new.sign(rotate_msg(key.pk, seq, new.pk))
        f = build_body(key, T_ROTATION, seq, fake_id("station 41"), hlc,
                       tf if tf is not None else new.pk + s)
        body_err(out, name, f, code, at)

    rot("rotation_new_key_equals_signer", "EINVAL", 120, new=STATION)
    good = NEWSTATION.sign(rotate_msg(STATION.pk, 42, NEWSTATION.pk))
    bad = bytearray(good)
    bad[0] ^= 0x80
    rot("rotation_bad_new_sig", "ESIG", 152, sig=bytes(bad))
    rot("rotation_new_sig_for_other_seq", "ESIG", 152,
        sig=NEWSTATION.sign(rotate_msg(STATION.pk, 41, NEWSTATION.pk)))
    rot("rotation_new_sig_by_old_key", "ESIG", 152,
        sig=STATION.sign(rotate_msg(STATION.pk, 42, NEWSTATION.pk)))
    rot("rotation_new_sig_without_context", "ESIG", 152,
        sig=NEWSTATION.sign(STATION.pk + u64(42) + NEWSTATION.pk))
    rot("rotation_header_len_one_byte_too_long", "ENONCANON", 216,
        tf=NEWSTATION.pk + good + b"\x00")

    def rev(name, code, at, from_seq=5, from_time=0, reason=2, extra=b""):
        f = build_body(COUNTY, T_REVOCATION, 3, fake_id("county 2"), hlc,
                       revocation_fields(STATION2.pk, from_seq, from_time, reason) + extra)
        body_err(out, name, f, code, at)

    rev("revocation_both_bounds_zero", "EINVAL", 152, from_seq=0, from_time=0)
    rev("revocation_reason_0", "EINVAL", 168, reason=0)
    rev("revocation_reason_5", "EINVAL", 168, reason=5)
    rev("revocation_header_len_one_byte_too_long", "ENONCANON", 169, extra=b"\x00")

    f = build_body(HUB, T_CHECKPOINT, 2, fake_id("hub 1"), hlc, u64(0) + sha256(b"") + b"\x00")
    body_err(out, "checkpoint_header_len_one_byte_too_long", f, "ENONCANON", 160)
    f = build_body(HUB, T_CHECKPOINT, 2, fake_id("hub 1"), hlc, u64(0) + sha256(b"")[:31])
    body_err(out, "checkpoint_root_overruns_header", f, "ENONCANON", 128)
    f = build_body(HUB, T_CHECKPOINT, 2, fake_id("hub 1"), hlc, u64(0) + sha256(b"x"))
    body_err(out, "checkpoint_size_0_root_not_empty_hash", f, "EINVAL", 128)


# --- files -----------------------------------------------------------------------------

def station_frames(key, n, start_seq=1, prev=ZERO32, t0=HLC_SEAL, label="f"):
    feed = Feed(key, start_seq, prev)
    frames = []
    for i in range(n):
        rid = row("%s %d" % (label, i))
        frames.append(feed.changeset(t0 + (i << 16), [
            Upsert("patient", rid, t0 + (i << 16) - (5 << 16),
                   [("name", TEXT("病人%d" % (i + 1)), 0), ("age", INT(30 + i), 0)])]))
    return frames, feed


def file_ok(out, name, data, frames_ids, valid_end, extra=()):
    fields = [("hex", data.hex()), ("frames", len(frames_ids)), ("valid_end", valid_end),
              ("torn", len(data) - valid_end), ("ids", " ".join(i.hex() for i in frames_ids))]
    out.vector(name, "file", "ok", fields + list(extra))


def file_err(out, name, data, code, at, extra=()):
    out.vector(name, "file", err(code, at), [("hex", data.hex())] + list(extra))


def gen_files(out):
    out.comment("file: FORMAT §3 and §8.3; offsets relative to the file")
    name = "file_empty_log"
    data, _ = log_file(name, [])
    file_ok(out, name, data, [], 32)

    frames, _ = station_frames(STATION, 3)
    ids = [f.id for f in frames]
    bodies = [f.body for f in frames]

    name = "file_three_frames"
    data, offs = log_file(name, bodies)
    file_ok(out, name, data, ids, len(data))

    # mixed frame types, including an unknown non-critical one
    c1 = cert(ROOT, 1, ZERO32, HLC_SEAL, ROOT.pk, ROLE_ROOT, "440000")
    c2 = cert(ROOT, 2, c1.id, HLC_SEAL + 1, COUNTY.pk, ROLE_COUNTY, "440983")
    nc = build_body(ROOT, 0x22, 3, c2.id, HLC_SEAL + 2, b"x", b"y")
    cp = checkpoint(ROOT, 4, nc.id, HLC_SEAL + 3, 3, mth([c1.id, c2.id, nc.id]))
    name = "file_mixed_types_with_unknown_noncritical"
    data, _ = log_file(name, [c1.body, c2.body, nc.body, cp.body])
    file_ok(out, name, data, [c1.id, c2.id, nc.id, cp.id], len(data))

    # torn tails: the third frame is cut
    for label, keep in [("inside_envelope_head", 5), ("after_envelope_head", 8),
                        ("inside_body", 8 + 100), ("missing_crc", len(bodies[2]) + 8),
                        ("partial_crc", len(bodies[2]) + 10)]:
        name = "file_torn_" + label
        data, offs = log_file(name, bodies)
        data = data[:offs[2] + keep]
        file_ok(out, name, data, ids[:2], offs[2])

    name = "file_torn_only_frame"
    data, offs = log_file(name, bodies[:1])
    file_ok(out, name, data[:-1], [], 32)

    name = "file_torn_last_frame_bad_crc"
    data, offs = log_file(name, bodies)
    d = bytearray(data)
    d[-1] ^= 0x01
    file_ok(out, name, bytes(d), ids[:2], offs[2])

    name = "file_zeros_appended"
    data, offs = log_file(name, bodies)
    file_ok(out, name, data + bytes(100), ids, len(data))

    name = "file_few_zeros_appended"
    data, offs = log_file(name, bodies)
    file_ok(out, name, data + bytes(5), ids, len(data))

    name = "file_foreign_frame_at_end"
    data, offs = log_file(name, bodies[:2])
    other = envelope(salt_for("some other file"), bodies[2])
    file_ok(out, name, data + other, ids[:2], len(data))

    name = "file_tail_body_len_zero"
    data, offs = log_file(name, bodies[:2])
    file_ok(out, name, data + FRAME_MARKER + bytes(6) + u32(0), ids[:2], len(data))

    name = "file_tail_body_len_over_max"
    data, offs = log_file(name, bodies[:2])
    tail = FRAME_MARKER + u16(0) + u32(MAX_BODY + 1) + bytes(20)
    file_ok(out, name, data + tail, ids[:2], len(data))

    # corruption: damage followed by a valid frame
    name = "file_corrupt_middle_frame"
    data, offs = log_file(name, bodies)
    d = bytearray(data)
    d[offs[1] + 8 + 150] ^= 0x04
    file_err(out, name, bytes(d), "ECORRUPT", offs[1], [("next_frame", offs[2])])

    name = "file_corrupt_envelope_reserved"
    data, offs = log_file(name, bodies)
    salt = salt_for(name)
    d = bytearray(data)
    d[offs[1]:offs[2]] = envelope(salt, bodies[1], reserved=1)
    file_err(out, name, bytes(d), "ECORRUPT", offs[1], [("next_frame", offs[2])])

    name = "file_corrupt_marker"
    data, offs = log_file(name, bodies)
    d = bytearray(data)
    d[offs[0]] = 0xf6
    file_err(out, name, bytes(d), "ECORRUPT", offs[0], [("next_frame", offs[1])])

    name = "file_corrupt_body_len_zero_then_frames"
    salt = salt_for(name)
    data = file_header(salt) + envelope(salt, bodies[0]) + FRAME_MARKER + bytes(6)
    x = len(file_header(salt)) + len(envelope(salt, bodies[0]))
    y = len(data)
    data += envelope(salt, bodies[1])
    file_err(out, name, data, "ECORRUPT", x, [("next_frame", y)])

    name = "file_corrupt_garbage_between_frames"
    salt = salt_for(name)
    head = file_header(salt) + envelope(salt, bodies[0])
    data = head + b"\xde\xad\xbe\xef" * 3 + envelope(salt, bodies[1])
    file_err(out, name, data, "ECORRUPT", len(head), [("next_frame", len(head) + 12)])

    # header errors
    name = "file_bad_magic"
    salt = salt_for(name)
    file_err(out, name, file_header(salt, magic=b"\x89SWLOG\n\r"), "EMAGIC", 0)
    name = "file_version_2"
    salt = salt_for(name)
    file_err(out, name, file_header(salt, version=2), "EVERSION", 8)
    name = "file_version_0"
    salt = salt_for(name)
    file_err(out, name, file_header(salt, version=0), "EVERSION", 8)
    name = "file_header_reserved_nonzero"
    salt = salt_for(name)
    file_err(out, name, file_header(salt, reserved=1), "ENONCANON", 10)
    name = "file_header_crc_bad"
    salt = salt_for(name)
    h = file_header(salt)
    file_err(out, name, h[:28] + u32(crc32c(h[:28]) ^ 1), "ECRC", 28)
    name = "file_header_salt_flipped"
    salt = salt_for(name)
    h = bytearray(file_header(salt))
    h[20] ^= 0x10
    file_err(out, name, bytes(h), "ECRC", 28)
    name = "file_short_31"
    salt = salt_for(name)
    file_err(out, name, file_header(salt)[:31], "ESHORT", 0)
    file_err(out, "file_zero_bytes", b"", "ESHORT", 0)

    # a frame with a good envelope but a refused body is an error, not a torn tail (§8.3)
    name = "file_bad_signature_not_torn"
    bad = build_body(STATION, T_CHANGESET, 3, ids[1], HLC_SEAL, sign_with=STATION2,
                     type_fields=cs_fields("nurse.li", 1),
                     payload=bodies[2][frames[2].header_len + 64:])
    data, offs = log_file(name, bodies[:2] + [bad.body])
    file_err(out, name, data, "ESIG", offs[2] + 8 + bad.header_len)

    name = "file_unknown_critical_not_torn"
    bad = build_body(STATION, 0xC0, 3, ids[1], HLC_SEAL)
    data, offs = log_file(name, bodies[:2] + [bad.body])
    file_err(out, name, data, "ECRITICAL", offs[2] + 8)

    name = "file_body_short_in_good_envelope"
    data, offs = log_file(name, [bodies[0], bodies[1][:100]])
    file_err(out, name, data, "ESHORT", offs[1] + 8)


def gen_chains(out):
    out.comment("chain: FORMAT §8.1; offsets are the offending frame's envelope")
    a, fa = station_frames(STATION, 3, label="a")
    b, fb = station_frames(STATION2, 3, label="b", t0=HLC_SEAL + 7)
    name = "chain_two_feeds_interleaved"
    order = [a[0], b[0], b[1], a[1], a[2], b[2]]
    data, offs = log_file(name, [f.body for f in order])
    out.vector(name, "chain", "ok", [("hex", data.hex())])

    mid, _ = station_frames(STATION, 2, start_seq=7, prev=fake_id("station 6"), label="m")
    name = "chain_starts_mid_feed"
    data, offs = log_file(name, [mid[0].body, b[0].body, mid[1].body])
    out.vector(name, "chain", "ok", [("hex", data.hex())])

    name = "chain_gap"
    data, offs = log_file(name, [a[0].body, b[0].body, a[2].body])
    out.vector(name, "chain", err("ESEQ", offs[2]), [("hex", data.hex())])

    name = "chain_broken_prev"
    wrong = changeset(STATION, 2, fake_id("not frame 1"), HLC_SEAL + (9 << 16),
                      [Delete("patient", R_P1, HLC_SEAL)])
    data, offs = log_file(name, [a[0].body, b[0].body, wrong.body])
    out.vector(name, "chain", err("ECHAIN", offs[2]), [("hex", data.hex())])

    name = "chain_prev_is_other_feeds_frame"
    wrong = changeset(STATION, 2, b[0].id, HLC_SEAL + (9 << 16),
                      [Delete("patient", R_P1, HLC_SEAL)])
    data, offs = log_file(name, [a[0].body, b[0].body, wrong.body])
    out.vector(name, "chain", err("ECHAIN", offs[2]), [("hex", data.hex())])

    name = "chain_repeat_frame"
    data, offs = log_file(name, [a[0].body, a[1].body, a[1].body])
    out.vector(name, "chain", err("ESEQ", offs[2]), [("hex", data.hex())])

    name = "chain_seq_goes_back"
    data, offs = log_file(name, [a[0].body, a[1].body, b[0].body, a[0].body])
    out.vector(name, "chain", err("ESEQ", offs[3]), [("hex", data.hex())])

    name = "chain_fork_inside_file"
    fork2 = changeset(STATION, 2, a[0].id, HLC_SEAL + (1 << 16),
                      [Delete("patient", R_P2, HLC_SEAL)])
    data, offs = log_file(name, [a[0].body, a[1].body, fork2.body])
    out.vector(name, "chain", err("ESEQ", offs[2]), [("hex", data.hex())])

    name = "chain_seq_before_prev"
    wrong = changeset(STATION, 3, fake_id("nothing"), HLC_SEAL + (9 << 16),
                      [Delete("patient", R_P1, HLC_SEAL)])
    data, offs = log_file(name, [a[0].body, wrong.body])
    out.vector(name, "chain", err("ESEQ", offs[1]), [("hex", data.hex())])


def gen_forks(out):
    out.comment("fork: FORMAT §8.2; two bodies of one feed")
    a, _ = station_frames(STATION, 2, label="a")
    other = changeset(STATION, 2, a[0].id, HLC_SEAL + (1 << 16),
                      [Delete("patient", R_P2, HLC_SEAL)])
    out.vector("fork_same_seq_different_frames", "fork", err("EFORK"),
               [("hex_a", a[1].body.hex()), ("hex_b", other.body.hex())])
    resigned = changeset(STATION, 2, a[0].id, a[1].hlc, [
        Upsert("patient", row("a 1"), a[1].hlc - (5 << 16),
               [("name", TEXT("病人2"), 0), ("age", INT(32), 0)])])
    assert resigned.id != a[1].id
    out.vector("fork_same_seq_payload_differs_by_one_value", "fork", err("EFORK"),
               [("hex_a", a[1].body.hex()), ("hex_b", resigned.body.hex())])
    out.vector("fork_same_frame_twice", "fork", "ok",
               [("hex_a", a[1].body.hex()), ("hex_b", a[1].body.hex())])
    out.vector("fork_different_seq", "fork", "ok",
               [("hex_a", a[0].body.hex()), ("hex_b", a[1].body.hex())])


def gen_merkle(out):
    out.comment("merkle_root: FORMAT §9.2; leaf data d_i = SHA-256(u64 big-endian i)")
    leaves = [leaf(i) for i in range(130)]
    for n in range(71):
        out.vector("merkle_root_%d" % n, "merkle_root", "ok",
                   [("n", n), ("root", mth(leaves[:n]).hex())])

    out.comment("inclusion: FORMAT §9.3 (RFC 9162 §2.1.3)")
    cases = [(n, m) for n in range(1, 17) for m in range(n)]
    cases += [(70, m) for m in (0, 1, 31, 63, 64, 68, 69)] + [(127, 126), (128, 77), (129, 128)]
    for n, m in cases:
        p = path(m, leaves[:n])
        assert len(p) <= MAX_PROOF
        out.vector("inclusion_%d_%d" % (n, m), "inclusion", "ok",
                   [("n", n), ("index", m), ("proof", b"".join(p).hex()),
                    ("root", mth(leaves[:n]).hex())])
    # refused proofs
    n, m = 11, 5
    p, root = path(m, leaves[:n]), mth(leaves[:n]).hex()
    bad = [("inclusion_bad_extra_hash", p + [leaves[0]]),
           ("inclusion_bad_missing_hash", p[:-1]),
           ("inclusion_bad_flipped_bit", [bytes([p[0][0] ^ 1]) + p[0][1:]] + p[1:]),
           ("inclusion_bad_hashes_swapped", [p[1], p[0]] + p[2:])]
    for name, q in bad:
        out.vector(name, "inclusion", err("EPROOF"),
                   [("n", n), ("index", m), ("proof", b"".join(q).hex()), ("root", root)])
    out.vector("inclusion_bad_wrong_index", "inclusion", err("EPROOF"),
               [("n", n), ("index", m + 1), ("proof", b"".join(p).hex()), ("root", root)])

    out.comment("consistency: FORMAT §9.4 (RFC 9162 §2.1.4)")
    cases = [(m, n) for n in range(1, 17) for m in range(1, n + 1)]
    cases += [(m, 70) for m in (1, 5, 32, 63, 64, 65, 69, 70)] + [(127, 128), (64, 129)]
    for m, n in cases:
        p = consistency_proof(m, leaves[:n])
        out.vector("consistency_%d_%d" % (m, n), "consistency", "ok",
                   [("m", m), ("n", n), ("proof", b"".join(p).hex()),
                    ("root_m", mth(leaves[:m]).hex()), ("root_n", mth(leaves[:n]).hex())])
    m, n = 6, 13
    p = consistency_proof(m, leaves[:n])
    rm, rn = mth(leaves[:m]).hex(), mth(leaves[:n]).hex()
    bad = [("consistency_bad_extra_hash", p + [leaves[0]]),
           ("consistency_bad_missing_hash", p[:-1]),
           ("consistency_bad_flipped_bit", p[:1] + [bytes([p[1][0] ^ 1]) + p[1][1:]] + p[2:])]
    for name, q in bad:
        out.vector(name, "consistency", err("EPROOF"),
                   [("m", m), ("n", n), ("proof", b"".join(q).hex()), ("root_m", rm),
                    ("root_n", rn)])
    r = mth(leaves[:5]).hex()
    out.vector("consistency_bad_nonempty_for_equal_sizes", "consistency", err("EPROOF"),
               [("m", 5), ("n", 5), ("proof", leaves[0].hex()), ("root_m", r), ("root_n", r)])
    out.vector("consistency_bad_root_m", "consistency", err("EPROOF"),
               [("m", m), ("n", n), ("proof", b"".join(p).hex()),
                ("root_m", mth(leaves[:m + 1]).hex()), ("root_n", rn)])


def main():
    out = Out()
    out.lines += [
        "# swsync log format v1 test vectors (spec/FORMAT.md §12).",
        "# Generated by spec/vectors/gen_vectors.py; do not edit by hand.",
        "# Test key i: Ed25519 seed SHA-256(\"swsync test key \" || decimal i).",
        "# Keys: 1 root, 2 county hub, 3 station, 4 second station, 5 station's",
        "# successor, 6 hub (checkpoints), 7 provincial hub.",
        "# File salts: SHA-256(\"swsync test salt \" || vector name)[0:16].",
        "# Leaves of merkle vectors: d_i = SHA-256(u64 big-endian i).",
        "",
    ]
    for i in sorted(KEYS):
        out.lines.insert(-1, "# key %d public %s" % (i, KEYS[i].pk.hex()))
    gen_crc(out)
    gen_varint(out)
    gen_body_ok(out)
    gen_body_common_errors(out)
    gen_body_changeset_errors(out)
    gen_body_key_errors(out)
    gen_files(out)
    gen_chains(out)
    gen_forks(out)
    gen_merkle(out)
    summary = ", ".join("%s %d" % (k, v) for k, v in out.count.items())
    out.lines.append("# end: %d vectors (%s)" % (sum(out.count.values()), summary))
    sys.stdout.write(out.text() + "\n")


if __name__ == "__main__":
    main()
