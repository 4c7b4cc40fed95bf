#!/usr/bin/python3
"""Loopback origin server for the Squid integration tests and the demo.

    origin.py PORT [PORT ...]

Listens on [::]:PORT (dual stack, so every IPv4 and IPv6 address of the
machine -- in the tests: of the private network namespace) for each PORT and
answers every request with 200 and a one-line body naming the Host header,
the local address and port that took the connection and the peer address.
Plain HTTP only: CONNECT tunnels in the tests carry plain HTTP too.

Must be run with /usr/bin/python3 (Debian's interpreter); it uses only the
standard library.
"""

import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class DualStackServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # Accept IPv4 (as ::ffff:a.b.c.d) and IPv6 on the same socket.
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "m365-test-origin/1"

    def answer(self, send_body):
        local = self.connection.getsockname()
        laddr = local[0]
        if laddr.startswith("::ffff:"):
            laddr = laddr[7:]
        body = ("m365-test-origin host=%s local=%s port=%d peer=%s path=%s\n"
                % (self.headers.get("Host", "-"), laddr, local[1],
                   self.client_address[0], self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_GET(self):
        self.answer(True)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length:
            self.rfile.read(length)
        self.answer(True)

    def do_HEAD(self):
        self.answer(False)

    def log_message(self, fmt, *args):
        sys.stderr.write("origin: %s %s\n" % (self.address_string(),
                                               fmt % args))


def main():
    ports = [int(p) for p in sys.argv[1:]]
    if not ports:
        sys.stderr.write("usage: origin.py PORT [PORT ...]\n")
        return 2
    servers = [DualStackServer(("::", p), Handler) for p in ports]
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    sys.stderr.write("origin: listening on %s\n"
                     % ", ".join("[::]:%d" % p for p in ports))
    sys.stderr.flush()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
