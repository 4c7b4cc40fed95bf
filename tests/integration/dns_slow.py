#!/usr/bin/python3
"""A DNS server that is slow on purpose, for tests/integration/resolve.t.

    dns_slow.py PORT never          read every query (UDP and TCP), answer none
    dns_slow.py PORT DELAY_MS ADDR  answer every A query with ADDR (TTL 60)
                                    DELAY_MS after it came, AAAA with no data

Listens on 127.0.0.1:PORT.  Prints "ready" on stdout once both sockets are
bound.  Standard library only; run with /usr/bin/python3.
"""

import socket
import struct
import sys
import threading


def question_end(q):
    """Offset just past the question section (name, type, class)."""
    i = 12
    while q[i] != 0:
        i += 1 + q[i]
    return i + 1 + 4


def answer(q, addr):
    qend = question_end(q)
    qtype = struct.unpack("!H", q[qend - 4:qend - 2])[0]
    rid = q[:2]
    if qtype != 1:      # not A: NOERROR, no data
        return rid + struct.pack("!HHHHH", 0x8180, 1, 0, 0, 0) + q[12:qend]
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(addr)
    return rid + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0) + q[12:qend] + rr


def hold_tcp(srv):
    held = []
    while True:
        c, _ = srv.accept()
        held.append(c)      # never read, never answered, never closed


def main():
    port = int(sys.argv[1])
    never = sys.argv[2] == "never"
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", port))
    tcp.listen(16)
    threading.Thread(target=hold_tcp, args=(tcp,), daemon=True).start()
    print("ready", flush=True)
    while True:
        q, peer = udp.recvfrom(4096)
        if never or len(q) < 17:
            continue
        reply = answer(q, sys.argv[3])
        delay = int(sys.argv[2]) / 1000.0
        threading.Timer(delay, udp.sendto, (reply, peer)).start()


if __name__ == "__main__":
    main()
