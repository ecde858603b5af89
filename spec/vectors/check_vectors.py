#!/usr/bin/env python3
"""Check spec/vectors/vectors.txt with a decoder written from FORMAT.md.

    /usr/bin/python3 spec/vectors/check_vectors.py [vectors.txt]

This is the reading side of FORMAT.md: it shares no code with gen_vectors.py
(the generator is an encoder; this is a decoder and verifier). Every vector is
decoded, and the outcome (ok with its decoded content, or the error code and
offset) must equal the vector's `expect` and data lines. Exit status 0 when
all vectors pass.

Dependencies: the Python standard library and PyNaCl (libsodium's strict
Ed25519 verification, FORMAT §2.2).
"""

import hashlib
import re
import struct
import sys

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

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

KNOWN_TYPES = {0x81: "changeset", 0x82: "cert", 0x83: "rotation", 0x84: "revocation",
               0x85: "checkpoint"}


class Refused(Exception):
    def __init__(self, code, at):
        super().__init__("%s @%d" % (code, at))
        self.code = code
        self.at = at


def sha256(b):
    return hashlib.sha256(b).digest()


def H(ctx, m):
    return sha256(ctx + b"\x00" + m)


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def strict_verify(pk, msg, sig):
    try:
        VerifyKey(pk).verify(msg, sig)
        return True
    except (BadSignatureError, ValueError):
        return False


def valid_utf8(b):
    if b"\x00" in b:
        return False
    try:
        b.decode("utf-8", "strict")
        return True
    except UnicodeDecodeError:
        return False


IDENT = re.compile(rb"[a-z][a-z0-9_]*")
UNIT = re.compile(rb"[0-9A-Za-z-]+")


class Cursor:
    """Reads data[pos:end]; a field that runs past end is refused with
    `short` at the field's first byte. Offsets are absolute in data."""

    def __init__(self, data, pos, end, short):
        self.d, self.pos, self.end, self.short = data, pos, end, short

    def take(self, n):
        if n > self.end - self.pos:
            raise Refused(self.short, self.pos)
        b = self.d[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self):
        return self.take(1)[0]

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")

    def varint(self):
        start, value = self.pos, 0
        for i in range(10):
            if self.pos >= self.end:
                raise Refused(self.short, start)
            b = self.d[self.pos]
            self.pos += 1
            if i == 9:  # a 10th byte can only carry bit 63
                if b != 0x01:
                    raise Refused("ENONCANON", start)
                return value | 1 << 63
            value |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                if b == 0 and i > 0:
                    raise Refused("ENONCANON", start)
                return value
        raise AssertionError


def decode_varint_exact(data):
    c = Cursor(data, 0, len(data), "ESHORT")
    v = c.varint()
    if c.pos != len(data):
        raise Refused("ENONCANON", c.pos)
    return v


def uuid_text(b):
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def unzigzag(u):
    return (u >> 1) ^ -(u & 1)


# --- bodies (FORMAT §4-§7) --------------------------------------------------

def decode_body(b):
    """Decode and verify one frame body; returns a dict or raises Refused."""
    n = len(b)
    if n < 120:
        raise Refused("ESHORT", 0)
    ftype, layout = b[0], b[1]
    if layout != 1:
        raise Refused("EVERSION", 1)
    hl = struct.unpack(">H", b[2:4])[0]
    if hl < 120 or hl > MAX_HEADER:
        raise Refused("EBOUNDS", 2)
    signer = b[4:36]
    seq = struct.unpack(">Q", b[36:44])[0]
    prev = b[44:76]
    if seq == 0:
        raise Refused("EINVAL", 36)
    if seq == 1 and prev != bytes(32):
        raise Refused("ENONCANON", 44)
    hlc, pl = struct.unpack(">QI", b[76:88])
    phash = b[88:120]
    if pl > MAX_BODY - hl - 64:  # the whole body fits MAX_BODY (§4.1)
        raise Refused("EBOUNDS", 84)
    total = hl + 64 + pl
    if n < total:
        raise Refused("ESHORT", 0)
    if n > total:
        raise Refused("ENONCANON", total)
    if ftype == 0x00:  # reserved (FORMAT §4.2)
        raise Refused("EINVAL", 0)
    if ftype not in KNOWN_TYPES and ftype & 0x80:
        raise Refused("ECRITICAL", 0)
    pstart = hl + 64
    desc = []
    name = KNOWN_TYPES.get(ftype, "unknown")
    if ftype in KNOWN_TYPES:
        c = Cursor(b, 120, hl, "ENONCANON")
        if ftype == 0x81:
            desc = decode_changeset(b, c, hlc, pstart)
        else:
            desc = TYPE_DECODERS[ftype](c, signer, seq)
            if pl != 0:  # payload empty for these types (reading, see README)
                raise Refused("ENONCANON", pstart)
        if c.pos != hl:
            raise Refused("ENONCANON", c.pos)
    if H(b"swsync/payload/v1", b[pstart:]) != phash:
        raise Refused("EHASH", 88)
    fid = H(b"swsync/frame-id/v1", b[:hl])
    if not strict_verify(signer, b"swsync/sig/v1\x00" + fid, b[hl:hl + 64]):
        raise Refused("ESIG", hl)
    return {"id": fid, "type": ftype, "signer": signer, "seq": seq, "prev": prev,
            "desc": ["frame %s seq=%d hlc=%d" % (name, seq, hlc)] + desc}


def decode_changeset(b, c, hlc, pstart):
    at = c.pos
    schema = c.uint(4)
    if schema == 0:
        raise Refused("EINVAL", at)
    at = c.pos
    nrec = c.uint(4)
    if nrec == 0:
        raise Refused("EINVAL", at)
    if nrec > MAX_RECORDS:
        raise Refused("EBOUNDS", at)
    at = c.pos
    alen = c.u8()
    if alen == 0:
        raise Refused("EINVAL", at)
    if alen > MAX_AUTHOR:
        raise Refused("EBOUNDS", at)
    at = c.pos
    author = c.take(alen)
    if not valid_utf8(author):
        raise Refused("EINVAL", at)
    if c.pos != c.end:
        raise Refused("ENONCANON", c.pos)
    desc = ["changeset schema=%d records=%d author=%s" % (schema, nrec, author.hex())]

    p = Cursor(b, pstart, len(b), "ESHORT")
    at = p.pos
    ntab = p.varint()
    if ntab == 0:
        raise Refused("EINVAL", at)
    if ntab > MAX_TABLES:
        raise Refused("EBOUNDS", at)
    tables = []  # [name, name_off, [[col, col_off], ...]]
    total_cols = 0

    def ident(cur):
        at = cur.pos
        ln = cur.u8()
        if ln == 0:
            raise Refused("EINVAL", at)
        if ln > MAX_NAME:
            raise Refused("EBOUNDS", at)
        at = cur.pos
        nm = cur.take(ln)
        if not IDENT.fullmatch(nm):
            raise Refused("EINVAL", at)
        return nm, at

    for _ in range(ntab):
        nm, nat = ident(p)
        if tables and not tables[-1][0] < nm:
            raise Refused("ENONCANON", nat)
        at = p.pos
        ncol = p.varint()
        if ncol > MAX_COLUMNS:
            raise Refused("EBOUNDS", at)
        total_cols += ncol
        if total_cols > MAX_DICT_COLUMNS:
            raise Refused("EBOUNDS", at)
        cols = []
        for _ in range(ncol):
            cn, cat = ident(p)
            if cols and not cols[-1][0] < cn:
                raise Refused("ENONCANON", cat)
            cols.append(cn)
            cols[-1] = [cn, cat]
        tables.append([nm, nat, cols])
    used_t, used_c = set(), set()
    for _ in range(nrec):
        at = p.pos
        kind = p.u8()
        if kind not in (1, 2):
            raise Refused("EINVAL", at)
        at = p.pos
        ti = p.varint()
        if ti >= ntab:
            raise Refused("EINVAL", at)
        used_t.add(ti)
        rid = p.take(16)
        at = p.pos
        delta = p.varint()
        if delta > hlc:
            raise Refused("EINVAL", at)
        tname = tables[ti][0].decode()
        if kind == 2:
            rep = p.varint()
            desc.append("record delete %s %s hlc=%d replaced=%d"
                        % (tname, uuid_text(rid), hlc - delta, rep))
            continue
        desc.append("record upsert %s %s hlc=%d" % (tname, uuid_text(rid), hlc - delta))
        cols = tables[ti][2]
        at = p.pos
        nval = p.varint()
        if nval == 0 or nval > len(cols):
            raise Refused("EINVAL", at)
        last = -1
        for _ in range(nval):
            at = p.pos
            ci = p.varint()
            if ci >= len(cols):
                raise Refused("EINVAL", at)
            if ci <= last:
                raise Refused("ENONCANON", at)
            last = ci
            used_c.add((ti, ci))
            at = p.pos
            tag = p.u8()
            if tag & 0xF0:
                raise Refused("ENONCANON", at)
            vt = tag & 0x07
            if vt > 4:
                raise Refused("EINVAL", at)
            rep = 0
            if tag & 0x08:
                at = p.pos
                rep = p.varint()
                if rep == 0:
                    raise Refused("ENONCANON", at)
            if vt == 0:
                v = "null"
            elif vt == 1:
                v = "int:%d" % unzigzag(p.varint())
            elif vt == 2:
                at = p.pos
                raw = p.take(8)
                bits = int.from_bytes(raw, "big")
                if bits & 0x7FF0000000000000 == 0x7FF0000000000000 and bits & ((1 << 52) - 1):
                    raise Refused("EINVAL", at)
                v = "real:" + raw.hex()
            else:
                at = p.pos
                ln = p.varint()
                if ln > (MAX_TEXT if vt == 3 else MAX_BLOB):
                    raise Refused("EBOUNDS", at)
                at = p.pos
                data = p.take(ln)
                if vt == 3 and not valid_utf8(data):
                    raise Refused("EINVAL", at)
                v = ("text:" if vt == 3 else "blob:") + data.hex()
            desc.append("value %s replaced=%d %s" % (cols[ci][0].decode(), rep, v))
    if p.pos != len(b):
        raise Refused("ENONCANON", p.pos)
    for ti, (nm, nat, cols) in enumerate(tables):
        if ti not in used_t:
            raise Refused("ENONCANON", nat)
        for ci, (cn, cat) in enumerate(cols):
            if (ti, ci) not in used_c:
                raise Refused("ENONCANON", cat)
    return desc


def decode_cert(c, signer, seq):
    subject = c.take(32)
    at = c.pos
    role = c.u8()
    if role not in (1, 2, 3, 4):
        raise Refused("EINVAL", at)
    vfrom = c.uint(8)
    at = c.pos
    vuntil = c.uint(8)
    if vuntil <= vfrom:
        raise Refused("EINVAL", at)
    at = c.pos
    ulen = c.u8()
    if ulen == 0:
        raise Refused("EINVAL", at)
    if ulen > MAX_UNIT:
        raise Refused("EBOUNDS", at)
    at = c.pos
    unit = c.take(ulen)
    if not UNIT.fullmatch(unit):
        raise Refused("EINVAL", at)
    return ["cert subject=%s role=%d from=%d until=%d unit=%s"
            % (subject.hex(), role, vfrom, vuntil, unit.decode())]


def decode_rotation(c, signer, seq):
    at = c.pos
    new = c.take(32)
    if new == signer:
        raise Refused("EINVAL", at)
    at = c.pos
    sig = c.take(64)
    msg = b"swsync/rotate/v1\x00" + signer + struct.pack(">Q", seq) + new
    if not strict_verify(new, msg, sig):
        raise Refused("ESIG", at)
    return ["rotation new=%s" % new.hex()]


def decode_revocation(c, signer, seq):
    subject = c.take(32)
    at = c.pos
    from_seq = c.uint(8)
    from_time = c.uint(8)
    if from_seq == 0 and from_time == 0:
        raise Refused("EINVAL", at)
    at = c.pos
    reason = c.u8()
    if reason not in (1, 2, 3, 4):
        raise Refused("EINVAL", at)
    return ["revocation subject=%s from_seq=%d from_time=%d reason=%d"
            % (subject.hex(), from_seq, from_time, reason)]


def decode_checkpoint(c, signer, seq):
    size = c.uint(8)
    root = c.take(32)
    if size == 0 and root != hashlib.sha256(b"").digest():  # FORMAT §7.5
        raise Refused("EINVAL", 128)
    return ["checkpoint size=%d root=%s" % (size, root.hex())]


TYPE_DECODERS = {0x82: decode_cert, 0x83: decode_rotation, 0x84: decode_revocation,
                 0x85: decode_checkpoint}


# --- files (FORMAT §3, §8.3) --------------------------------------------------

def envelope_at(f, salt, x):
    """§3.3 steps 1-5 at offset x: body_len, or raises Refused(code, x)."""
    left = len(f) - x
    if left < 8:
        raise Refused("ESHORT", x)
    if f[x:x + 2] != b"\xf5\x1e":
        raise Refused("EMAGIC", x)
    if f[x + 2:x + 4] != b"\x00\x00":
        raise Refused("ENONCANON", x)
    blen = struct.unpack(">I", f[x + 4:x + 8])[0]
    if blen == 0 or blen > MAX_BODY:
        raise Refused("EBOUNDS", x)
    if blen + 12 > left:
        raise Refused("ESHORT", x)
    crc = struct.unpack(">I", f[x + 8 + blen:x + 12 + blen])[0]
    if crc32c(salt + f[x:x + 8 + blen]) != crc:
        raise Refused("ECRC", x)
    return blen


def scan_file(f):
    """Returns (frames, valid_end) or raises Refused; frames are (offset, decoded)."""
    if len(f) < 32:
        raise Refused("ESHORT", 0)
    if f[:8] != b"\x89SWLOG\r\n":
        raise Refused("EMAGIC", 0)
    if f[8:10] != b"\x00\x01":
        raise Refused("EVERSION", 8)
    if f[10:12] != b"\x00\x00":
        raise Refused("ENONCANON", 10)
    if crc32c(f[:28]) != struct.unpack(">I", f[28:32])[0]:
        raise Refused("ECRC", 28)
    salt = f[12:28]
    x, frames = 32, []
    while x < len(f):
        try:
            blen = envelope_at(f, salt, x)
        except Refused:
            for y in range(x + 1, len(f)):
                try:
                    envelope_at(f, salt, y)
                except Refused:
                    continue
                e = Refused("ECORRUPT", x)
                e.next_frame = y
                raise e
            return frames, x
        try:
            frames.append((x, decode_body(f[x + 8:x + 8 + blen])))
        except Refused as e:
            raise Refused(e.code, x + 8 + e.at)
        x += blen + 12
    return frames, x


def check_chains(frames):
    feeds = {}
    for x, fr in frames:
        last = feeds.get(fr["signer"])
        if last is not None:
            if fr["seq"] != last["seq"] + 1:
                raise Refused("ESEQ", x)
            if fr["prev"] != last["id"]:
                raise Refused("ECHAIN", x)
        feeds[fr["signer"]] = fr


# --- Merkle verification (RFC 9162 §2.1.3.2, §2.1.4.2) ------------------------

def node(a, b):
    return sha256(b"\x01" + a + b)


def verify_inclusion(index, size, leaf_hash, proof, root):
    if len(proof) > MAX_PROOF or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, proof, root_m, root_n):
    if len(proof) > MAX_PROOF or not 0 < m <= n:
        return False
    if m == n:
        return not proof and root_m == root_n
    if not proof:
        return False
    if m & (m - 1) == 0:
        proof = [root_m] + proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n


def merkle_root(leaves):
    if not leaves:
        return sha256(b"")
    level = [sha256(b"\x00" + d) for d in leaves]
    # Bottom-up construction; equal to RFC 9162's recursive MTH: an odd last
    # node is promoted unchanged to the next level.
    while len(level) > 1:
        nxt = [node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def leaf_data(i):
    return sha256(struct.pack(">Q", i))


def split_hashes(h):
    b = bytes.fromhex(h)
    assert len(b) % 32 == 0
    return [b[i:i + 32] for i in range(0, len(b), 32)]


# --- the vector file --------------------------------------------------------

def parse(text):
    vecs, cur = [], None
    for line in text.split("\n"):
        if line.startswith("#"):
            continue
        if line == "":
            cur = None
            continue
        key, _, value = line.partition(" ")
        if key == "vector":
            cur = {"name": value, "fields": []}
            vecs.append(cur)
            continue
        assert cur is not None, "field outside a vector: " + line
        cur["fields"].append((key, value))
    return vecs


def field(v, key):
    vals = [val for k, val in v["fields"] if k == key]
    assert len(vals) == 1, (v["name"], key)
    return vals[0]


def outcome(fn):
    try:
        return "ok", fn()
    except Refused as e:
        return e, None


def check(v):
    kind, expect = field(v, "kind"), field(v, "expect")
    m = re.fullmatch(r"(ok|SWLOG_[A-Z]+)(?: @(\d+))?", expect)
    assert m, "bad expect"
    want_code, want_at = m.group(1), m.group(2)

    def expect_error(e):
        assert e != "ok", "decoded fine but expected %s" % expect
        got = "SWLOG_" + e.code + ("" if want_at is None else " @%d" % e.at)
        assert got == expect, "got %s, expected %s" % (got, expect)

    if kind in ("inclusion", "consistency"):
        assert want_code in ("ok", "SWLOG_EPROOF") and want_at is None
    if kind == "crc32c":
        assert "%08x" % crc32c(bytes.fromhex(field(v, "input"))) == field(v, "crc")
    elif kind == "varint":
        res, val = outcome(lambda: decode_varint_exact(bytes.fromhex(field(v, "hex"))))
        if want_code == "ok":
            assert res == "ok", str(res)
            assert val == int(field(v, "value"))
        else:
            expect_error(res)
    elif kind == "body":
        res, fr = outcome(lambda: decode_body(bytes.fromhex(field(v, "hex"))))
        if want_code != "ok":
            expect_error(res)
            return
        assert res == "ok", "refused: %s" % res
        assert fr["id"].hex() == field(v, "frame_id")
        assert "%02x" % fr["type"] == field(v, "type")
        assert fr["signer"].hex() == field(v, "signer")
        assert fr["seq"] == int(field(v, "seq"))
        want = [val for k, val in v["fields"] if k == "desc"]
        assert fr["desc"] == want, "desc differs:\n%s\n%s" % (fr["desc"], want)
    elif kind in ("file", "chain"):
        data = bytes.fromhex(field(v, "hex"))

        def run():
            frames, end = scan_file(data)
            if kind == "chain":
                check_chains(frames)
            return frames, end
        res, got = outcome(run)
        if want_code != "ok":
            expect_error(res)
            if want_code == "SWLOG_ECORRUPT":
                assert res.next_frame == int(field(v, "next_frame"))
            return
        assert res == "ok", "refused: %s" % res
        frames, end = got
        if kind == "file":
            assert len(frames) == int(field(v, "frames"))
            assert end == int(field(v, "valid_end"))
            assert len(data) - end == int(field(v, "torn"))
            assert " ".join(f["id"].hex() for _, f in frames) == field(v, "ids")
        else:
            assert end == len(data), "chain vectors hold no torn tail"
    elif kind == "fork":
        a = decode_body(bytes.fromhex(field(v, "hex_a")))
        b = decode_body(bytes.fromhex(field(v, "hex_b")))
        assert a["signer"] == b["signer"], "fork vectors compare one feed"
        forked = a["seq"] == b["seq"] and a["id"] != b["id"]
        assert want_code == ("SWLOG_EFORK" if forked else "ok")
    elif kind == "merkle_root":
        n = int(field(v, "n"))
        assert merkle_root([leaf_data(i) for i in range(n)]).hex() == field(v, "root")
    elif kind == "inclusion":
        n, i = int(field(v, "n")), int(field(v, "index"))
        root = bytes.fromhex(field(v, "root"))
        assert merkle_root([leaf_data(j) for j in range(n)]) == root
        ok = verify_inclusion(i, n, sha256(b"\x00" + leaf_data(i)),
                              split_hashes(field(v, "proof")), root)
        assert ok == (want_code == "ok"), "verification gave %s" % ok
    elif kind == "consistency":
        m, n = int(field(v, "m")), int(field(v, "n"))
        rm, rn = bytes.fromhex(field(v, "root_m")), bytes.fromhex(field(v, "root_n"))
        assert merkle_root([leaf_data(j) for j in range(n)]) == rn
        ok = verify_consistency(m, n, split_hashes(field(v, "proof")), rm, rn)
        assert ok == (want_code == "ok"), "verification gave %s" % ok
        if want_code == "ok":
            assert merkle_root([leaf_data(j) for j in range(m)]) == rm
    else:
        raise AssertionError("unknown kind " + kind)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "spec/vectors/vectors.txt"
    with open(path, encoding="utf-8") as fh:
        vecs = parse(fh.read())
    failed, counts, names = 0, {}, set()
    for v in vecs:
        try:
            assert v["name"] not in names, "duplicate name"
            names.add(v["name"])
            check(v)
            k = field(v, "kind")
            counts[k] = counts.get(k, 0) + 1
        except AssertionError as e:
            failed += 1
            print("FAIL %s: %s" % (v["name"], e))
    print("%d vectors, %d failed; passed: %s" % (
        len(vecs), failed, ", ".join("%s %d" % kv for kv in counts.items())))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
