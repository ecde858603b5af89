#!/usr/bin/env python3
"""Seed corpora for the fuzz targets of tests/fuzz/, made from valid and
invalid inputs that already exist: the spec's test vectors
(spec/vectors/vectors.txt, FORMAT §12.1) and log files such as the one
build/tools/swsync-example writes. Nothing binary is committed.

usage: make_seeds.py --out DIR [--vectors FILE] [--log FILE]...

Writes DIR/<target>/<sha1 of content> for the targets fuzz_frame (and
fuzz_merge, the same frame seeds), fuzz_log, fuzz_varint and fuzz_csv (CSV
texts written below, each behind the limit bytes 0x07 and 0x81 that
fuzz_csv reads first). Each frame or log seed is written once per useful
mode byte (the first input byte of those targets; see their opening
comments). A missing vectors file is not an error: the vectors may not
exist yet.
"""
import argparse
import hashlib
import os
import struct
import sys

FILE_HEADER = 32
MAX_FRAMES = 100000  # bound on frames split out of one log


def write(out, target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame_seeds(out, body):
    # 0: full decode with signature; 1: NO_SIG; 3: NO_SIG + fixed payload hash
    for mode in (0, 1, 3):
        write(out, "fuzz_frame", bytes([mode]) + body)
        write(out, "fuzz_merge", bytes([mode]) + body)


def log_seeds(out, data):
    # 0: as is; 1: fix CRCs; 3: fix CRCs and payload hashes; 4: with sigs
    for mode in (0, 1, 3, 4):
        write(out, "fuzz_log", bytes([mode]) + data)


def split_log(data):
    """Bodies of the whole frames of a log file (FORMAT §3.2)."""
    off, bodies = FILE_HEADER, []
    while len(bodies) < MAX_FRAMES and len(data) - off >= 8:
        if data[off:off + 2] != b"\xf5\x1e":
            break
        (blen,) = struct.unpack(">I", data[off + 4:off + 8])
        if blen == 0 or off + 12 + blen > len(data):
            break
        bodies.append(data[off + 8:off + 8 + blen])
        off += 12 + blen
    return bodies


def read_vectors(path):
    """Yield dicts of FORMAT §12.1 blocks; repeated keys keep the first."""
    block = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                if block:
                    yield block
                block = {}
                continue
            key, _, value = line.partition(" ")
            block.setdefault(key, value)
    if block:
        yield block


def unhex(s):
    try:
        return bytes.fromhex(s or "")
    except ValueError:
        return None


CSV_SEEDS = [
    b"id,name,gender\r\n,Li,male\r\n",
    b"\xef\xbb\xbfa,b\nc,d",
    b"# guide, \"x\"\na,\"b,c\",\"d\"\"e\"\n\n\"x\ny\",z\r\n",
    b",,\n\"\",a\n",
    "\u4e2d\u6587,\u00e9\n".encode("utf-8"),
    b"a,b\nab\"c,d\n",           # stray quote
    b"\"a\"b\n",                  # text after a closing quote
    b"a,b\n\"open\nmore",         # quote never closed
    b"a\rb\n",                     # bare CR
    b"a,\x00b\n",                  # NUL
    b"\xc3\x28\n\xed\xa0\x80\n",    # invalid UTF-8, surrogate
    b"a\xe4\xb8",                  # truncated at the end
    b"1,2,3,4,5,6,7,8,9,10,11,12\n",
    b"x" * 50 + b"\n",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--vectors")
    ap.add_argument("--log", action="append", default=[])
    args = ap.parse_args()

    counts = {}
    if args.vectors and os.path.exists(args.vectors):
        for v in read_vectors(args.vectors):
            kind = v.get("kind")
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "body":
                b = unhex(v.get("hex"))
                if b is not None:
                    frame_seeds(args.out, b)
            elif kind in ("file", "chain"):
                b = unhex(v.get("hex"))
                if b is not None:
                    log_seeds(args.out, b)
                    for body in split_log(b):
                        frame_seeds(args.out, body)
            elif kind == "fork":
                for k in ("hex_a", "hex_b"):
                    b = unhex(v.get(k))
                    if b is not None:
                        frame_seeds(args.out, b)
            elif kind == "varint":
                b = unhex(v.get("hex"))
                if b is not None:
                    write(args.out, "fuzz_varint", b)
    elif args.vectors:
        print("make_seeds: no %s yet; seeds from logs only" % args.vectors)

    for path in args.log:
        with open(path, "rb") as f:
            data = f.read()
        log_seeds(args.out, data)
        for body in split_log(data):
            frame_seeds(args.out, body)
        counts["log " + os.path.basename(path)] = 1

    # FORMAT §1.2's examples, valid and not.
    for h in ("00", "7f", "8001", "ac02", "8000", "ffffffffffffffffff01",
              "ffffffffffffffffff02", "80"):
        write(args.out, "fuzz_varint", bytes.fromhex(h))

    # CSV import's reader (agent/csv.h): accepted forms and every refusal.
    for text in CSV_SEEDS:
        for mode in (0x07, 0x81):
            write(args.out, "fuzz_csv", bytes([mode]) + text)

    for target in ("fuzz_frame", "fuzz_merge", "fuzz_log", "fuzz_varint",
                   "fuzz_csv"):
        d = os.path.join(args.out, target)
        n = len(os.listdir(d)) if os.path.isdir(d) else 0
        print("make_seeds: %-12s %d seeds" % (target, n))
    sources = sorted("%s %d" % (k, n) for k, n in counts.items())
    print("make_seeds: sources: " + (", ".join(sources) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
