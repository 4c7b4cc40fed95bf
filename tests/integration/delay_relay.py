#!/usr/bin/python3
"""A TCP relay that delays every byte by a fixed time in each direction.

    delay_relay.py LISTEN_HOST LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT MS

Accepts connections on LISTEN_HOST:LISTEN_PORT, opens one to
UPSTREAM_HOST:UPSTREAM_PORT for each, and passes the bytes both ways, each
chunk held back MS milliseconds (one way) after it arrived, in order: a
link with a round-trip time of 2 * MS.  assess.t puts it in front of the
parent Squid when the kernel has no sch_netem for "tc qdisc ... netem
delay"; it prints "ready" once it listens.  Bounded: at most 64 chunks
(of at most 64 KiB) wait per direction, then the reading side waits too.

Must be run with /usr/bin/python3 (Debian's interpreter); standard
library only.
"""

import asyncio
import sys
import time

QUEUE = 64
CHUNK = 65536


async def pump(reader, writer, delay):
    """Copies reader to writer, each chunk delay seconds after it came."""
    queue = asyncio.Queue(QUEUE)

    async def feed():
        while True:
            data = await reader.read(CHUNK)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                return

    feeder = asyncio.ensure_future(feed())
    try:
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        feeder.cancel()


async def relay(creader, cwriter, upstream, delay):
    try:
        ureader, uwriter = await asyncio.wait_for(
            asyncio.open_connection(*upstream), 10)
    except (OSError, asyncio.TimeoutError):
        cwriter.close()
        return
    await asyncio.gather(pump(creader, uwriter, delay),
                         pump(ureader, cwriter, delay),
                         return_exceptions=True)
    for w in (cwriter, uwriter):
        w.close()


async def main():
    host, port, uhost, uport, ms = sys.argv[1:6]
    delay = int(ms) / 1000.0
    upstream = (uhost, int(uport))
    server = await asyncio.start_server(
        lambda r, w: relay(r, w, upstream, delay), host, int(port))
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    asyncio.run(main())
