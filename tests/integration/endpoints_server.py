"""A stand-in for Microsoft's endpoint web service (DESIGN.md §2), on
loopback, for the tests of "m365-direct update" (tests/integration/update.t,
tests/integration/update-squid.t).

    /usr/bin/python3 endpoints_server.py --control FILE --log FILE \
        --port-file FILE --listen NAME=KIND[,ARG...] ...

Listeners (each on 127.0.0.1, port chosen by the OS):
    NAME=tls,CERT,KEY      HTTPS with that certificate chain and key
    NAME=plain             plain HTTP (the target of a redirect to http://;
                           m365-direct must never reach it)
    NAME=proxy[,USER:PASS] an HTTP CONNECT proxy (loopback targets only);
                           with USER:PASS it demands Basic proxy
                           authentication (407 otherwise)
When every listener is bound, the port file gets {"NAME": port, ...}
(written to a temp file and renamed, so a reader never sees half of it).

Requests it answers (after an optional "/mirror" prefix, which is where a
"redirect-https" fault points):
    GET /version/INSTANCE    {"instance": INSTANCE, "latest": LATEST}
    GET /endpoints/INSTANCE  the bytes of the data file, unchanged
The control file (JSON) is re-read on every request, so the test changes
the server's behaviour by rewriting it (atomically); every key is optional:
    latest           "2025110700"       the version /version announces
    version_body     raw text to send as the /version body instead
    data             path of the file /endpoints serves
    data_by_instance {"China": path}    per instance, wins over "data"
    fault            {"version": MODE, "endpoints": MODE}
    flaky_count      how many 500s "flaky" sends before answering (2)
    hang_seconds     how long "hang" keeps the connection open (30)
    redirect_http    base URL a "redirect-http" fault sends the client to
    redirect_https   the same for "redirect-https"
    static_root      a directory: GET /static/PATH answers the bytes of
                     DIR/PATH (query ignored; 404 when there is no such
                     file), as any static web server serving a directory
                     written by "m365-direct mirror -o DIR" would
Requests under /mirror are always answered normally (no fault).

MODE: "ok" (or absent), "500", "503", "404", "429", "status:NNN", "hang"
(never answers; the connection stays open until the client gives up),
"truncate" (Content-Length of the whole body, half of it sent, then the
connection is closed), "invalid-json", "not-array", "empty-array",
"oversize" (valid JSON padded with blanks to 4 MiB + 1 byte, with a
Content-Length), "oversize-chunked" (the same, chunked: no length known
in advance), "pad:N" (the data padded with blanks to exactly N bytes),
"gzip" (the data with Content-Encoding: gzip), "oversize-gzip" (4 MiB + 1
byte of valid JSON, gzip-compressed to a few KiB: the cap must apply to
the decoded body), "redirect-http", "redirect-https" (302 to the base
above + the same path and query), "flaky" (500 flaky_count times, then the normal answer; the
count restarts whenever the control file changes).

Every request is logged to the log file as one JSON object per line:
    {"t": UNIX TIME, "listener": NAME, "method": "GET", "path": "/version/Worldwide",
     "kind": "version"|"endpoints"|"other", "instance": ..., "query": RAW,
     "params": {NAME: VALUE, ...}, "client_request_id": ..., "user_agent": ...,
     "mode": MODE}
("flaky" is logged as "flaky:500" or "flaky:ok"; each line is written when
the request arrives, before the answer)
plus {"t", "listener", "tls": "ok"} for every TLS handshake that worked,
{"t", "listener", "tls_error": TEXT} for one that failed, and
{"t", "listener", "method": "CONNECT", "target", "auth", "status"} on the
proxy.  The test counts and checks these lines.

Standard library only; must be run with /usr/bin/python3.  Stops on
SIGTERM or SIGINT.
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

MAX_BODY = 4 * 1024 * 1024

LOG_LOCK = threading.Lock()
LOG_FILE = None
CONTROL_PATH = None
FLAKY = {"digest": None, "count": {}}
FLAKY_LOCK = threading.Lock()


def log(entry):
    entry = dict(entry)
    entry.setdefault("t", time.time())
    line = json.dumps(entry, sort_keys=True) + "\n"
    with LOG_LOCK:
        LOG_FILE.write(line)
        LOG_FILE.flush()


def read_control():
    """The control file, re-read on every request ({} when absent), and a
    digest of its text (the "flaky" counters restart when it changes)."""
    try:
        with open(CONTROL_PATH, "rb") as f:
            raw = f.read()
    except OSError:
        return {}, ""
    try:
        ctl = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError as e:
        sys.stderr.write("endpoints_server: bad control file: %s\n" % e)
        ctl = {}
    return ctl, hashlib.sha1(raw).hexdigest()


def flaky_should_fail(digest, kind, limit):
    with FLAKY_LOCK:
        if FLAKY["digest"] != digest:
            FLAKY["digest"] = digest
            FLAKY["count"] = {}
        n = FLAKY["count"].get(kind, 0)
        FLAKY["count"][kind] = n + 1
        return n < limit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "m365-test-endpoints/1"

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    # ---------------------------------------------------------------- util
    def send_body(self, code, body, ctype="application/json",
                  extra_headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def hang(self, seconds):
        """Answer nothing; return when the client closes or after seconds."""
        end = time.time() + seconds
        try:
            self.wfile.flush()
            self.connection.settimeout(0.2)
            while time.time() < end:
                try:
                    if self.connection.recv(4096) == b"":
                        break
                except (socket.timeout, ssl.SSLWantReadError):
                    continue
        except OSError:
            pass
        self.close_connection = True

    def chunked(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        step = 64 * 1024
        try:
            for i in range(0, len(body), step):
                part = body[i:i + step]
                self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass   # the client stopped reading: that is the point
        self.close_connection = True

    # ------------------------------------------------------------- request
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        mirror = False
        if path.startswith("/mirror/"):
            mirror = True
            path = path[len("/mirror"):]
        if path.startswith("/static/"):
            self.static(path[len("/static/"):], url)
            return
        parts = path.split("/")
        kind, instance = "other", None
        if len(parts) == 3 and parts[1] in ("version", "endpoints") and parts[2]:
            kind, instance = parts[1], urllib.parse.unquote(parts[2])
        params = {k: v[0] for k, v in
                  urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        ctl, digest = read_control()
        mode = "ok"
        if kind != "other" and not mirror:
            mode = (ctl.get("fault") or {}).get(kind) or "ok"
        if mode == "flaky":
            failing = flaky_should_fail(digest, kind,
                                        int(ctl.get("flaky_count", 2)))
            mode = "flaky:500" if failing else "flaky:ok"
        # Logged before answering, so that a request the server never
        # answers ("hang") is on record while the client still waits.
        log({
            "listener": self.server.name, "method": self.command,
            "path": url.path, "kind": kind, "instance": instance,
            "query": url.query, "params": params,
            "client_request_id": params.get("ClientRequestId"),
            "user_agent": self.headers.get("User-Agent"),
            "mode": mode,
        })
        try:
            self.answer(ctl, kind, instance, mode.replace("flaky:", ""), url)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def static(self, rel, url):
        """A file under the control's static_root, by its path (no "." or
        ".." segments, nothing outside the directory)."""
        ctl, _ = read_control()
        root = ctl.get("static_root")
        segs = [urllib.parse.unquote(p) for p in rel.split("/")]
        log({"listener": self.server.name, "method": self.command,
             "path": url.path, "kind": "static", "query": url.query})
        body = None
        if root and all(p not in ("", ".", "..") and "/" not in p for p in segs):
            try:
                with open(os.path.join(root, *segs), "rb") as f:
                    body = f.read()
            except OSError:
                body = None
        if body is None:
            self.send_body(404, b'{"error":"no such file"}\n')
        else:
            self.send_body(200, body)

    def answer(self, ctl, kind, instance, mode, url):
        if kind == "other":
            self.send_body(404, b'{"error":"no such path"}\n')
            return
        if mode.startswith("status:") or mode in ("500", "503", "404", "429"):
            code = int(mode.split(":")[-1])
            headers = [("Retry-After", "3600")] if code == 429 else []
            self.send_body(code, b'{"error":"fault %d"}\n' % code,
                           extra_headers=headers)
            return
        if mode == "hang":
            self.hang(float(ctl.get("hang_seconds", 30)))
            return
        if mode in ("redirect-http", "redirect-https"):
            base = ctl.get(mode.replace("-", "_"), "")
            loc = base + url.path + ("?" + url.query if url.query else "")
            self.send_body(302, b"", ctype="text/plain",
                           extra_headers=[("Location", loc)])
            return
        if kind == "version":
            if "version_body" in ctl:
                body = ctl["version_body"].encode()
            else:
                body = json.dumps({"instance": instance,
                                   "latest": ctl.get("latest", "2025110700")},
                                  indent=1).encode() + b"\n"
        else:
            body = self.endpoints_body(ctl, instance, mode)
            if body is None:
                self.send_body(500, b'{"error":"test server: no data file"}\n')
                return
        if mode == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "oversize-chunked":
            self.chunked(200, body)
            return
        if mode in ("gzip", "oversize-gzip"):
            self.send_body(200, gzip.compress(body),
                           extra_headers=[("Content-Encoding", "gzip")])
            return
        self.send_body(200, body)

    def endpoints_body(self, ctl, instance, mode):
        if mode == "invalid-json":
            return b'[{"id": 1, "category": "Optimize", "urls": ["outlook.office365.com"]}, {"id": 2,'
        if mode == "not-array":
            return b'{"id": 1, "category": "Optimize", "urls": ["outlook.office365.com"]}\n'
        if mode == "empty-array":
            return b"[]\n"
        path = (ctl.get("data_by_instance") or {}).get(instance) or ctl.get("data")
        if not path:
            return None
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError:
            return None
        size = None
        if mode in ("oversize", "oversize-chunked", "oversize-gzip"):
            size = MAX_BODY + 1
        elif mode.startswith("pad:"):
            size = int(mode[4:])
        if size is not None and size > len(body):
            body = body + b" " * (size - len(body))
        return body

    do_HEAD = do_GET


class ProxyHandler(BaseHTTPRequestHandler):
    """A CONNECT-only forward proxy, loopback targets only."""
    protocol_version = "HTTP/1.1"
    server_version = "m365-test-proxy/1"

    def log_message(self, fmt, *args):
        pass

    def do_CONNECT(self):
        entry = {"listener": self.server.name, "method": "CONNECT",
                 "target": self.path,
                 "user_agent": self.headers.get("User-Agent")}
        want = self.server.auth
        got = self.headers.get("Proxy-Authorization", "")
        entry["auth"] = "none"
        if got.lower().startswith("basic "):
            try:
                entry["auth"] = base64.b64decode(got[6:].strip()).decode()
            except ValueError:
                entry["auth"] = "undecodable"
        if want and entry["auth"] != want:
            entry["status"] = 407
            log(entry)
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="m365 test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        host, _, port = self.path.rpartition(":")
        if host not in ("127.0.0.1", "localhost") or not port.isdigit():
            entry["status"] = 403
            log(entry)
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", int(port)), 5)
        except OSError:
            entry["status"] = 502
            log(entry)
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        entry["status"] = 200
        log(entry)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        self.tunnel(upstream)
        self.close_connection = True

    def tunnel(self, upstream):
        socks = [self.connection, upstream]
        upstream.settimeout(None)
        self.connection.settimeout(None)
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 60)
                if not r:
                    return
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is self.connection else self.connection).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()

    def do_GET(self):
        log({"listener": self.server.name, "method": self.command,
             "path": self.path, "status": 405})
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One listener.  TLS is set up per connection, in the connection's own
    thread, so that a client which never finishes (or fails) the handshake
    cannot block the others; a failed handshake is logged."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name, handler, context=None, auth=None):
        self.name = name
        self.context = context
        self.auth = auth
        super().__init__(("127.0.0.1", 0), handler)

    def finish_request(self, request, client_address):
        if self.context is not None:
            try:
                request.settimeout(10)
                request = self.context.wrap_socket(request, server_side=True)
                request.settimeout(None)
                log({"listener": self.name, "tls": "ok"})
            except (ssl.SSLError, OSError) as e:
                log({"listener": self.name, "tls_error": str(e)})
                try:
                    request.close()
                except OSError:
                    pass
                return
        try:
            self.RequestHandlerClass(request, client_address, self)
        except (OSError, ssl.SSLError):
            pass

    def handle_error(self, request, client_address):
        pass   # a client that disappears is part of the tests


def make_listener(spec):
    name, _, rest = spec.partition("=")
    kind, *args = rest.split(",")
    if kind == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args[0], args[1])
        return Server(name, Handler, context=ctx)
    if kind == "plain":
        return Server(name, Handler)
    if kind == "proxy":
        return Server(name, ProxyHandler, auth=args[0] if args else None)
    raise SystemExit("endpoints_server: bad --listen %r" % spec)


def main():
    global LOG_FILE, CONTROL_PATH
    ap = argparse.ArgumentParser()
    ap.add_argument("--control", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--listen", action="append", required=True)
    a = ap.parse_args()
    CONTROL_PATH = a.control
    LOG_FILE = open(a.log, "a", encoding="utf-8")
    servers = [make_listener(s) for s in a.listen]
    ports = {s.name: s.server_address[1] for s in servers}
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ports, f)
        f.write("\n")
    os.rename(tmp, a.port_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
    while not stop.wait(0.5):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()


if __name__ == "__main__":
    main()
