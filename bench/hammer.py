"""A light keep-alive HTTP/1.1 load client on raw asyncio sockets, for requests cheaper than httpx.

httpx spends more CPU on a request than a small endpoint takes to answer it, and the driver shares
the machine's cores with the server: measured through it, `/health` would measure the client.
Each connection sends a GET, reads the whole response (a Content-Length body, which is what a JSON
endpoint answers) and sends the next: keep-alive, no pipelining.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from bench.stats import Sampler


async def _connection(
    host: str, port: int, request: bytes, until: float, count: int, expect: int, sampler: Sampler
) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        sampler.error(f"connect: {type(exc).__name__}: {exc}")
        return
    try:
        for _ in range(count):
            if time.perf_counter() > until:
                return
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length_at = head.lower().find(b"content-length:")
            if length_at < 0:
                raise ValueError(f"no Content-Length in {head[:200]!r}")
            length = int(head[length_at + 15 : head.find(b"\r\n", length_at)])
            body = await reader.readexactly(length)
            elapsed = (time.perf_counter() - started) * 1000
            status = int(head[9:12])
            if status == expect:
                sampler.add(elapsed)
            else:
                sampler.error(f"-> {status}: {body[:200]!r}")
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        sampler.error(f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()


async def hammer(
    sampler: Sampler,
    base_url: str,
    path: str,
    *,
    clients: int,
    requests: int,
    budget_s: float,
    expect: int = 200,
) -> Sampler:
    """`requests` GETs of `path` spread over `clients` keep-alive connections, or as many as the
    budget allows; each answered request's latency (ms) goes into `sampler`, which is timed."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    request = f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode()
    per_client = [requests // clients + (i < requests % clients) for i in range(clients)]
    sampler.restart()
    until = time.perf_counter() + budget_s
    await asyncio.gather(
        *(_connection(host, port, request, until, n, expect, sampler) for n in per_client if n)
    )
    return sampler.stop()
