#!/usr/bin/env python3
"""devtools_load.py FILE NODES [CLASS=COUNT | CLASS~COUNT ...] - load a .heapsnapshot into the
Chrome DevTools heap snapshot code of a headless Chromium (Debian's chromium),
through the DevTools protocol (test_pictures.c). The page imports DevTools' own
heap_snapshot_worker module from the browser's built-in frontend and runs its
HeapSnapshotLoader and buildSnapshot, as the Memory tab does; then checks the
node count, the number of objects per class name (DevTools' Summary view), and,
for CLASS=COUNT (not CLASS~COUNT: a class with garbage members), that the class
is reachable from the synthetic root (distance >= 1) and retains something. Exit 0 when all holds, 77 when
chromium is missing or does not start (the caller skips), 1 otherwise."""
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    """The least of RFC 6455 the DevTools protocol needs: text frames."""

    def __init__(self, url):
        hostport, path = url[len("ws://"):].split("/", 1)
        host, port = hostport.split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += self.sock.recv(4096)
        head, self.rest = buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("no websocket: %r" % head[:100])

    def send(self, text):
        data = text.encode()
        n = len(data)
        hdr = bytes([0x81])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(hdr + mask + masked)

    def _read(self, n):
        while len(self.rest) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.rest += chunk
        out, self.rest = self.rest[:n], self.rest[n:]
        return out

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            msg += self._read(n)
            if b0 & 0x80:
                return msg.decode()

    def call(self, ident, method, params):
        self.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            reply = json.loads(self.recv())
            if reply.get("id") == ident:
                return reply


LOAD = """(async () => {
  const m = await import('/devtools/entrypoints/heap_snapshot_worker/heap_snapshot_worker.js');
  const loader = new m.HeapSnapshotLoader.HeapSnapshotLoader({sendEvent() {}});
  loader.write(%s);
  loader.close();
  const ch = new MessageChannel();
  new m.HeapSnapshot.SecondaryInitManager(ch.port2);
  const s = await loader.buildSnapshot(ch.port1);
  const agg = s.aggregatesWithFilter({});
  const classes = {};
  for (const k in agg)
    classes[agg[k].name] = {count: agg[k].count, self: agg[k].self, maxRet: agg[k].maxRet,
                            distance: agg[k].distance};
  return JSON.stringify({nodeCount: s.nodeCount, totalSize: s.totalSize, classes});
})()"""


def start_chromium(udd):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        print("devtools: chromium not installed: skipped")
        sys.exit(77)
    proc = subprocess.Popen([exe, "--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage",
                             "--remote-debugging-port=0", "--user-data-dir=" + udd, "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    portfile = os.path.join(udd, "DevToolsActivePort")
    for _ in range(600):
        if os.path.exists(portfile) and open(portfile).read().strip():
            return proc, open(portfile).read().split()[0]
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    print("devtools: chromium did not start: skipped")
    sys.exit(77)


def main():
    path, want_nodes = sys.argv[1], int(sys.argv[2])
    want, reach = {}, set()
    for a in sys.argv[3:]:
        sep = "=" if "=" in a else "~"
        name, count = a.rsplit(sep, 1)
        want[name] = int(count)
        if sep == "=":
            reach.add(name)
    udd = tempfile.mkdtemp(prefix="objmem-devtools-")
    proc, port = start_chromium(udd)
    try:
        base = "http://127.0.0.1:%s" % port
        pages = json.load(urllib.request.urlopen(base + "/json/list", timeout=30))
        ws = WebSocket([t for t in pages if t["type"] == "page"][0]["webSocketDebuggerUrl"])
        ws.call(1, "Page.enable", {})
        ws.call(2, "Page.navigate", {"url": base + "/json/version"}) # the frontend's origin
        time.sleep(1)
        with open(path, encoding="utf-8") as f:
            expr = LOAD % json.dumps(f.read())
        r = ws.call(3, "Runtime.evaluate", {"expression": expr, "awaitPromise": True,
                                            "returnByValue": True})
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(udd, ignore_errors=True)
    if "exceptionDetails" in r.get("result", {}) or "error" in r:
        print("devtools: DevTools could not load the snapshot: %s" % json.dumps(r)[:1500])
        sys.exit(1)
    got = json.loads(r["result"]["result"]["value"])
    if got["nodeCount"] != want_nodes:
        print("devtools: %d nodes, expected %d" % (got["nodeCount"], want_nodes))
        sys.exit(1)
    for name, count in want.items():
        c = got["classes"].get(name)
        if not c or c["count"] != count:
            print("devtools: class %s: %s, expected %d objects" % (name, c, count))
            sys.exit(1)
        if name in reach and (c["distance"] < 1 or c["maxRet"] < c["self"] / max(count, 1)):
            print("devtools: class %s unreachable from the root or retains nothing: %s" % (name, c))
            sys.exit(1)
    print("devtools: loaded, %d nodes, %d bytes; %s" % (got["nodeCount"], got["totalSize"],
          ", ".join("%s %d" % (n, got["classes"][n]["count"]) for n in want)))


main()
