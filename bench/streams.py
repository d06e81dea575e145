#!/usr/bin/env python3
"""Holds open event streams (GET /auth/events) against a Vestibule, as SPAs do.

    python3 bench/streams.py HOST PORT N COOKIE [COOKIE...]

Opens N streams, spread over the given session cookies, checks each answers 200 with
text/event-stream, prints "open N" and keeps reading until stdin closes. Prints "closed K" when
the server ended K of them meanwhile.
"""
import asyncio
import sys


async def stream(host, port, cookie, opened, closed):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /auth/events HTTP/1.1\r\nHost: {host}:{port}\r\nX-CSRF: 1\r\n"
        f"Cookie: vestibule={cookie}\r\n\r\n".encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200") or b"text/event-stream" not in head:
        raise SystemExit(f"stream refused: {head[:200]!r}")
    opened.append(1)
    while await reader.read(4096):
        pass
    closed.append(1)


async def main():
    host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cookies = sys.argv[4:]
    opened, closed = [], []
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(stream(host, port, cookies[i % len(cookies)], opened, closed)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    while len(opened) < n:
        for t in tasks:
            if t.done() and t.exception():
                raise t.exception()
        await asyncio.sleep(0.05)
    print(f"open {n}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    print(f"closed {len(closed)}", flush=True)


asyncio.run(main())
