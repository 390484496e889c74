"""A lightweight `GET /events` subscriber on a raw asyncio socket, cheap enough to run 1,000 at once.

It decodes HTTP/1.1 chunked transfer (what uvicorn sends for a streaming response), splits SSE
blocks on blank lines and, per event, only looks up the top-level `run_id` (the first one in the
JSON: `Event` serialises `run_id` before `payload`), recording when that run's events arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

RUN_ID_KEY = b'"run_id":"'


@dataclass
class RunArrivals:
    count: int = 0
    first: float = 0.0
    last: float = 0.0


@dataclass
class SseSubscriber:
    base_url: str
    token: str
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    runs: dict[str, RunArrivals] = field(default_factory=dict)
    status: int | None = None
    error: str | None = None
    events_seen: int = 0
    _task: asyncio.Task[None] | None = None
    _writer: asyncio.StreamWriter | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()

    def seen(self, run_id: str) -> RunArrivals | None:
        return self.runs.get(run_id)

    async def _run(self) -> None:
        url = urlsplit(self.base_url)
        host, port = url.hostname or "127.0.0.1", url.port or (443 if url.scheme == "https" else 80)
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=url.scheme == "https" or None)
            self._writer = writer
            path = (url.path.rstrip("/") or "") + "/events"
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAccept: text/event-stream\r\n"
                f"Authorization: Bearer {self.token}\r\nCache-Control: no-cache\r\n\r\n"
            )
            writer.write(request.encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            self.status = int(head.split(b" ", 2)[1])
            if self.status != 200:
                self.error = f"GET /events answered {self.status}"
                return
            chunked = b"transfer-encoding: chunked" in head.lower()
            await self._read(reader, chunked)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.connected.set()  # never leave a waiter hanging; `error`/`status` tell what happened

    async def _read(self, reader: asyncio.StreamReader, chunked: bool) -> None:
        # One read may hold several chunks (and SSE blocks); decode all of them before awaiting again.
        raw = bytearray()
        buffer = b""
        while True:
            data = await reader.read(65536)
            if not data:
                self.error = "stream ended"
                return
            now = time.perf_counter()
            if chunked:
                raw += data
                decoded = []
                while True:
                    line_end = raw.find(b"\r\n")
                    if line_end < 0:
                        break
                    size = int(bytes(raw[:line_end]).split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        self.error = "stream ended"
                        return
                    end = line_end + 2 + size
                    if len(raw) < end + 2:
                        break
                    decoded.append(bytes(raw[line_end + 2 : end]))
                    del raw[: end + 2]
                if not decoded:
                    continue
                data = b"".join(decoded)
            buffer += data
            while True:
                end = buffer.find(b"\n\n")
                if end < 0:
                    break
                block, buffer = buffer[:end], buffer[end + 2 :]
                self._block(block, now)

    def _block(self, block: bytes, now: float) -> None:
        if not self.connected.is_set():
            self.connected.set()  # the first block is the server's `retry:` + "connected" preamble
        data_at = block.find(b"data: ")
        if data_at < 0:
            return  # a comment (keep-alive) or the preamble
        self.events_seen += 1
        key = block.find(RUN_ID_KEY, data_at)
        if key < 0:
            return
        start = key + len(RUN_ID_KEY)
        run_id = block[start : block.find(b'"', start)].decode()
        arrivals = self.runs.get(run_id)
        if arrivals is None:
            arrivals = self.runs[run_id] = RunArrivals(first=now)
        arrivals.count += 1
        arrivals.last = now
