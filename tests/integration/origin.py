#!/usr/bin/python3
"""Loopback origin server for the Squid integration tests and the demo.

    origin.py [--tls-cert PEM] PORT [PORT ...]

Listens on [::]:PORT (dual stack, so every IPv4 and IPv6 address of the
machine -- in the tests: of the private network namespace) for each PORT and
answers every request with 200 and a one-line body naming the Host header,
the local address and port that took the connection and the peer address.
A PORT written tls:PORT serves HTTPS instead, with the certificate chain and
key in PEM (one file, given by --tls-cert); its body also names the TLS
server name (SNI) the client sent, "-" when none.  Other ports are plain
HTTP: CONNECT tunnels in most tests carry plain HTTP.

Must be run with /usr/bin/python3 (Debian's interpreter); it uses only the
standard library.
"""

import socket
import ssl
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
    # Answers leave at once: Nagle's algorithm against the client's
    # delayed ACK would add some 40 ms to each (assess.t measures them).
    disable_nagle_algorithm = True

    def answer(self, send_body):
        local = self.connection.getsockname()
        laddr = local[0]
        if laddr.startswith("::ffff:"):
            laddr = laddr[7:]
        body = ("m365-test-origin host=%s local=%s port=%d peer=%s path=%s"
                % (self.headers.get("Host", "-"), laddr, local[1],
                   self.client_address[0], self.path))
        if isinstance(self.connection, ssl.SSLSocket):
            body += " sni=%s" % (getattr(self.connection, "m365_sni", None)
                                 or "-")
        body = (body + "\n").encode()
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


class TLSServer(DualStackServer):
    """HTTPS: the handshake runs in the handler's thread (a slow or broken
    client must not stop the others), and the SNI is kept on the socket."""

    def __init__(self, addr, handler, context):
        self.context = context
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        try:
            request.settimeout(10)
            # TLS 1.3 session tickets go out in small writes right after
            # the handshake: without this the second waits for an ACK.
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            sys.stderr.write("origin: TLS handshake with %s failed: %s\n"
                             % (client_address[0], e))
            return
        self.RequestHandlerClass(tls, client_address, self)


def tls_context(pem):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem)

    def remember_sni(sock, name, _ctx):
        sock.m365_sni = name
    ctx.sni_callback = remember_sni
    return ctx


def main():
    args = sys.argv[1:]
    pem = None
    if len(args) >= 2 and args[0] == "--tls-cert":
        pem, args = args[1], args[2:]
    servers = []
    for a in args:
        if a.startswith("tls:"):
            if pem is None:
                sys.stderr.write("origin.py: %s needs --tls-cert\n" % a)
                return 2
            servers.append(TLSServer(("::", int(a[4:])), Handler,
                                     tls_context(pem)))
        else:
            servers.append(DualStackServer(("::", int(a)), Handler))
    if not servers:
        sys.stderr.write("usage: origin.py [--tls-cert PEM] PORT|tls:PORT ...\n")
        return 2
    ports = args
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    sys.stderr.write("origin: listening on %s\n"
                     % ", ".join("[::]:%s" % p for p in ports))
    sys.stderr.flush()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
