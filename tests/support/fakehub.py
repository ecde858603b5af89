#!/usr/bin/python3
"""A fake hub for the sync client's tests (tests/test_client_*.sh), speaking
the push part of spec/PROTOCOL.md over TLS: /v1/hello, /v1/feeds/<feed>,
/v1/push. It checks each frame's envelope, signature and chain, keeps the
feeds in memory, signs a real checkpoint (FORMAT §7.5) with its test key
after each batch and answers real RFC 9162 inclusion proofs, so the
client's receipt verification is really exercised. On request it refuses a
chosen frame, answers 503 with Retry-After, or signs receipts badly.

usage: fakehub.py --cert PEM --key PEM --port-file FILE --seed HEX
                  [--state-file FILE] [--refuse FEEDHEX:SEQ]...
                  [--busy N] [--retry-after S] [--bad-proof]
Writes its port to FILE; after each push writes --state-file (JSON:
held feeds, how often each frame was accepted)."""
import argparse
import hashlib
import http.server
import json
import os
import socketserver
import ssl
import struct
import threading
import time

from nacl.signing import SigningKey, VerifyKey
from nacl.exceptions import BadSignatureError

MAGIC = b"\x89SWLOG\r\n"
MARKER = b"\xf5\x1e"
ZERO = bytes(32)


def H(ctx, msg):
    return hashlib.sha256(ctx.encode() + b"\x00" + msg).digest()


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


TABLE = _table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def mth(d):
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k << 1 < len(d):
        k <<= 1
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m, d):
    if len(d) <= 1:
        return []
    k = 1
    while k << 1 < len(d):
        k <<= 1
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


class Hub:
    def __init__(self, args):
        self.sk = SigningKey(bytes.fromhex(args.seed))
        self.pk = bytes(self.sk.verify_key)
        self.args = args
        self.lock = threading.Lock()
        self.feeds = {}      # signer -> [frame ids], seq 1 first
        self.parked = {}     # signer -> first refused seq
        self.accepts = {}    # "feed:seq" -> times accepted
        self.leaves = []
        self.leaf_of = {}
        self.ck_seq, self.ck_prev = 0, ZERO
        self.refuse = set()
        for r in args.refuse:
            f, s = r.split(":")
            self.refuse.add((bytes.fromhex(f), int(s)))
        self.busy = args.busy
        self.pushes = 0
        self.push_times = []

    def checkpoint(self):
        """Sign a checkpoint over the leaves so far (FORMAT §7.5)."""
        size, root = len(self.leaves), mth(self.leaves)
        self.ck_seq += 1
        hlc = int(time.time() * 1000) << 16
        tf = struct.pack(">Q", size) + root
        ph = H("swsync/payload/v1", b"")
        header = (bytes([0x85, 1]) + struct.pack(">H", 120 + len(tf)) +
                  self.pk + struct.pack(">Q", self.ck_seq) + self.ck_prev +
                  struct.pack(">Q", hlc) + struct.pack(">I", 0) + ph + tf)
        fid = H("swsync/frame-id/v1", header)
        sig = self.sk.sign(b"swsync/sig/v1\x00" + fid).signature
        self.ck_prev = fid
        self.leaves.append(fid)  # §9.1: frames it authored are leaves too
        self.leaf_of[fid] = len(self.leaves) - 1
        return header + sig, size

    def frames(self, data):
        """The bodies of a frames body (FORMAT §3), or raise ValueError."""
        if len(data) < 32 or data[:8] != MAGIC:
            raise ValueError("not a FORMAT §3 file")
        salt = data[12:28]
        if struct.unpack(">I", data[28:32])[0] != crc32c(data[:28]):
            raise ValueError("file header CRC")
        pos, out = 32, []
        while pos < len(data):
            head = data[pos:pos + 8]
            if len(head) < 8 or head[:2] != MARKER:
                raise ValueError("envelope at %d" % pos)
            n = struct.unpack(">I", head[4:8])[0]
            body = data[pos + 8:pos + 8 + n]
            crc = data[pos + 8 + n:pos + 12 + n]
            if len(body) != n or len(crc) != 4 or \
                    struct.unpack(">I", crc)[0] != crc32c(salt + head + body):
                raise ValueError("frame at %d: short or bad CRC" % pos)
            out.append(body)
            pos += 12 + n
        return out

    def push(self, data):
        bodies = self.frames(data)
        results, fork = [], False
        for i, body in enumerate(bodies):
            hl = struct.unpack(">H", body[2:4])[0]
            signer, seq = body[4:36], struct.unpack(">Q", body[36:44])[0]
            prev, fid = body[44:76], H("swsync/frame-id/v1", body[:hl])
            r = {"index": i, "feed": signer.hex(), "seq": seq,
                 "id": fid.hex()}
            results.append(r)
            held = self.feeds.setdefault(signer, [])
            try:
                VerifyKey(signer).verify(b"swsync/sig/v1\x00" + fid,
                                         body[hl:hl + 64])
            except BadSignatureError:
                r.update(status="refused", error="bad_signature",
                         message="the signature does not verify")
                continue
            if seq <= len(held):
                if held[seq - 1] == fid:
                    r.update(status="duplicate")
                else:
                    r.update(status="fork", error="fork",
                             message="another frame holds seq %d" % seq)
                    fork = True
                continue
            parked = self.parked.get(signer)
            if parked is not None and seq >= parked:
                r.update(status="refused",
                         error="clock_skew" if seq == parked else "gap",
                         message="test: frame refused on purpose"
                         if seq == parked else
                         "seq %d of this feed was refused" % parked)
                continue
            if seq != len(held) + 1 or prev != (held[-1] if held else ZERO):
                r.update(status="refused", error="gap",
                         message="the hub holds seq %d" % len(held))
                continue
            if (signer, seq) in self.refuse:
                self.parked[signer] = seq
                r.update(status="refused", error="clock_skew",
                         message="test: frame refused on purpose")
                continue
            held.append(fid)
            self.leaves.append(fid)
            self.leaf_of[fid] = len(self.leaves) - 1
            key = "%s:%d" % (signer.hex(), seq)
            self.accepts[key] = self.accepts.get(key, 0) + 1
            r.update(status="accepted")
        # The real hub's answer (agent/hub/hub_push.c): results by index,
        # counts, and a receipt with the checkpoint and a proof per
        # acknowledged frame.
        answer = {"results": results}
        for st in ("accepted", "duplicate", "refused", "fork"):
            answer[st] = sum(1 for r in results if r["status"] == st)
        acked = [r for r in results if r["status"] in ("accepted",
                                                        "duplicate")]
        answer["receipt"] = None
        if acked:
            ck, size = self.checkpoint()
            tree = self.leaves[:size]
            proofs = []
            for r in acked:
                leaf = self.leaf_of[bytes.fromhex(r["id"])]
                path_ = path(leaf, tree)
                if self.args.bad_proof and path_:
                    path_[0] = bytes(32)
                r["leaf"] = leaf
                proofs.append({"index": r["index"], "id": r["id"],
                               "leaf": leaf,
                               "path": [p.hex() for p in path_]})
            answer["receipt"] = {"hub": self.pk.hex(), "checkpoint": ck.hex(),
                                 "tree_size": size,
                                 "root": mth(tree).hex(), "proofs": proofs}
        if fork:
            answer["error"] = "fork"
            answer["message"] = "frames fork a feed the hub holds"
        return (409 if fork else 200), answer

    def dump(self):
        if not self.args.state_file:
            return
        st = {"feeds": {f.hex(): [i.hex() for i in ids]
                        for f, ids in self.feeds.items()},
              "accepts": self.accepts, "pushes": self.pushes,
              "push_times": self.push_times}
        tmp = self.args.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, self.args.state_file)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, fmt, *a):
        pass

    def answer(self, status, obj, headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        hub = self.server.hub
        if self.path == "/v1/hello":
            return self.answer(200, {
                "protocol": 1, "hub": hub.pk.hex(), "unit": "TEST-HUB",
                "time_ms": int(time.time() * 1000),
                "max_push_bytes": 16777216, "max_push_frames": 256})
        if self.path.startswith("/v1/feeds/"):
            f = self.path[len("/v1/feeds/"):]
            try:
                key = bytes.fromhex(f)
                assert len(key) == 32
            except Exception:
                return self.answer(400, {"error": "bad_request",
                                         "message": "bad feed key"})
            with hub.lock:
                held = hub.feeds.get(key, [])
                return self.answer(200, {
                    "feed": f, "seq": len(held),
                    "id": (held[-1] if held else ZERO).hex(),
                    "frozen": False})
        return self.answer(404, {"error": "not_found", "message": self.path})

    def do_POST(self):
        hub = self.server.hub
        n = int(self.headers.get("Content-Length", "0"))
        if n > 16777216:
            return self.answer(413, {"error": "too_large", "message": "big"})
        data = self.rfile.read(n)
        if len(data) != n:
            return
        if self.path != "/v1/push":
            return self.answer(404, {"error": "not_found",
                                     "message": self.path})
        with hub.lock:
            hub.pushes += 1
            hub.push_times.append(time.time())
            if hub.busy > 0:
                hub.busy -= 1
                hub.dump()
                return self.answer(503, {"error": "busy", "message":
                                         "test: busy on purpose"},
                                   [("Retry-After",
                                     str(hub.args.retry_after))])
            try:
                status, ans = hub.push(data)
            except ValueError as e:
                return self.answer(400, {"error": "bad_body",
                                         "message": str(e)})
            hub.dump()
        self.answer(status, ans)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # cut links and refused certificates are what the tests do


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--state-file")
    ap.add_argument("--refuse", action="append", default=[])
    ap.add_argument("--busy", type=int, default=0)
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--bad-proof", action="store_true")
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.hub = Hub(args)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                 do_handshake_on_connect=False)
    srv.hub.dump()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
