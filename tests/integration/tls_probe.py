#!/usr/bin/python3
"""TLS client for the SslBump tests: who signed the certificate I was shown?

    tls_probe.py [--proxy HOST:PORT --connect AUTHORITY [--proxy-auth U:P]]
                 [--to ADDR:PORT] [--sni NAME] --ca PEM [--ca PEM ...]
                 [--get HOST [--inner-auth U:P]]

Opens a TCP connection, either to an HTTP proxy followed by "CONNECT
AUTHORITY" (the explicit-proxy case) or straight to ADDR:PORT (the
interception case: the network redirects it to Squid), then makes a TLS
handshake with the server name NAME (no SNI at all without --sni).  The
certificate is verified against the given CA files but not against any
name: the point is to learn which CA issued it (the origin's "public" test
CA when Squid spliced, Squid's bump CA when it bumped).  With --get it then
sends "GET / HTTP/1.1" with "Host: HOST" inside the tunnel (and, with
--inner-auth, Proxy-Authorization, the way a browser answers a 407 it got
from a bumping proxy).

Prints one line of key=value words, for example
    connect=200 issuer=m365-test-public-ca status=200 body=m365-test-origin ...
and stops at the first step that failed ("connect=407", "tls=error:...");
an error page from Squid adds squid_error=ERR_...
Always exits 0 when it could print a line.  Needs /usr/bin/python3 (standard
library only).
"""

import argparse
import base64
import socket
import ssl
import sys


def split_hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def read_head(sock):
    """The HTTP response head (status line and headers), bounded."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > 65536:
            break
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def status_of(head):
    parts = head.split(" ", 2)
    return parts[1] if len(parts) > 1 else "none"


def basic(userpass):
    return "Basic " + base64.b64encode(userpass.encode()).decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--proxy")
    ap.add_argument("--connect")
    ap.add_argument("--proxy-auth")
    ap.add_argument("--to")
    ap.add_argument("--sni")
    ap.add_argument("--ca", action="append", required=True)
    ap.add_argument("--get")
    ap.add_argument("--inner-auth")
    ap.add_argument("--timeout", type=float, default=8)
    a = ap.parse_args()
    out = []

    def done(*words):
        out.extend(words)
        print(" ".join(out))
        return 0

    try:
        if a.proxy:
            sock = socket.create_connection(split_hostport(a.proxy), a.timeout)
            req = "CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (a.connect, a.connect)
            if a.proxy_auth:
                req += "Proxy-Authorization: %s\r\n" % basic(a.proxy_auth)
            sock.sendall((req + "\r\n").encode())
            head, _ = read_head(sock)
            code = status_of(head)
            if code != "200":
                return done("connect=" + code)
            out.append("connect=200")
        else:
            sock = socket.create_connection(split_hostport(a.to), a.timeout)
    except OSError as e:
        return done("tcp=error:" + type(e).__name__)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    for ca in a.ca:
        ctx.load_verify_locations(ca)
    try:
        tls = ctx.wrap_socket(sock, server_hostname=a.sni)
    except ssl.SSLCertVerificationError as e:
        return done("tls=unverified:" + str(e.verify_message).replace(" ", "_"))
    except (OSError, ssl.SSLError) as e:
        return done("tls=error:" + type(e).__name__)
    issuer = dict(x[0] for x in tls.getpeercert().get("issuer", ()))
    out.append("issuer=" + issuer.get("commonName", "?"))
    if not a.get:
        tls.close()
        return done()
    req = "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n" % a.get
    if a.inner_auth:
        req += "Proxy-Authorization: %s\r\n" % basic(a.inner_auth)
    try:
        tls.sendall((req + "\r\n").encode())
        head, rest = read_head(tls)
        while len(rest) < 4096 and b"\n" not in rest:
            chunk = tls.recv(4096)
            if not chunk:
                break
            rest += chunk
    except (OSError, ssl.SSLError) as e:
        return done("status=error:" + type(e).__name__)
    body = rest.split(b"\n", 1)[0].decode("latin-1").strip()
    if not body.startswith("m365-test-origin"):
        body = "other"
    out.append("status=" + status_of(head))
    for h in head.split("\r\n")[1:]:
        name, _, value = h.partition(":")
        if name.strip().lower() == "x-squid-error":
            out.append("squid_error=" + value.strip().replace(" ", ","))
    return done("body=" + body.replace(" ", ","))


if __name__ == "__main__":
    sys.exit(main())
