#!/usr/bin/env python3
"""Check a hub's push answer (PROTOCOL §4.4) independently of the C code:
the checkpoint frame's layout and Ed25519 signature by the hub key (FORMAT
§4.1, §7.5), and every inclusion proof against its root (RFC 9162 §2.1.3.2).

usage: receipt_check.py ANSWER.json HUBPUBHEX [MIN_PROOFS]
Exit 0 when the receipt holds, 1 with a message otherwise."""
import hashlib
import json
import sys

from nacl.signing import VerifyKey


def H(ctx, m):
    return hashlib.sha256(ctx.encode() + b"\0" + m).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def verify_inclusion(leaf_id, index, size, path, root):
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = hashlib.sha256(b"\x00" + leaf_id).digest()
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def main():
    ans = json.load(open(sys.argv[1]))
    hub = bytes.fromhex(sys.argv[2])
    min_proofs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rc = ans["receipt"]
    if bytes.fromhex(rc["hub"]) != hub:
        sys.exit("receipt names another hub key")
    body = bytes.fromhex(rc["checkpoint"])
    if len(body) != 160 + 64 or body[0] != 0x85 or body[2:4] != b"\x00\xa0":
        sys.exit("checkpoint frame layout is wrong")
    if body[4:36] != hub:
        sys.exit("checkpoint not signed by the hub key")
    msg = b"swsync/sig/v1\0" + H("swsync/frame-id/v1", body[:160])
    VerifyKey(hub).verify(msg, body[160:224])  # raises when bad
    size = int.from_bytes(body[120:128], "big")
    root = body[128:160]
    if size != rc["tree_size"] or root.hex() != rc["root"]:
        sys.exit("tree_size/root fields differ from the checkpoint frame")
    proofs = rc["proofs"]
    if len(proofs) < min_proofs:
        sys.exit("only %d proofs" % len(proofs))
    by_index = {p["index"]: p for p in proofs}
    for res in ans["results"]:
        if res["status"] in ("accepted", "duplicate"):
            p = by_index.get(res["index"])
            if p is None or p["id"] != res["id"] or p["leaf"] != res["leaf"]:
                sys.exit("frame %d has no matching proof" % res["index"])
    for p in proofs:
        if not verify_inclusion(bytes.fromhex(p["id"]), p["leaf"], size,
                                [bytes.fromhex(x) for x in p["path"]], root):
            sys.exit("inclusion proof of leaf %d does not verify" % p["leaf"])
    print("receipt ok: %d proofs, tree size %d" % (len(proofs), size))


main()
