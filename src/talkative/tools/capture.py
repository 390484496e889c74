"""Bounded capture of a child's output stream."""

from __future__ import annotations

import asyncio
from collections import deque

CHUNK = 256 * 1024


class StreamCapture:
    """Keeps the first `cap` bytes (and optionally the last `cap`) and discards the middle.

    The stream is always read to EOF, so the child never blocks on a full pipe. The tail exists
    because a skill's report envelope is its *last* stdout line, after any amount of logging.
    """

    def __init__(self, cap: int, *, keep_tail: bool = False) -> None:
        self.cap = cap
        self.total = 0
        self._head = bytearray()
        self._keep_tail = keep_tail
        self._tail: deque[bytes] = deque()
        self._tail_size = 0

    @property
    def truncated(self) -> bool:
        return self.total > self.cap

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(CHUNK):
            self.feed(chunk)

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
        if self._keep_tail:
            self._tail.append(chunk)
            self._tail_size += len(chunk)
            while self._tail and self._tail_size - len(self._tail[0]) >= self.cap:
                self._tail_size -= len(self._tail.popleft())

    def head(self) -> bytes:
        return bytes(self._head)

    def last(self) -> bytes:
        """The last `cap` bytes of the stream (the first ones without keep_tail)."""
        if not self._keep_tail:
            return bytes(self._head)
        return b"".join(self._tail)[-self.cap :]

    def text(self) -> str:
        return self._head.decode("utf-8", errors="replace")
