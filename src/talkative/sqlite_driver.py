"""aiosqlite without the thread hop: SQLite statements run on the event loop's own thread.

aiosqlite hands every call to a worker thread and wakes the loop when it is done. A statement on
a local WAL database takes a few microseconds; the hand-off around it costs 150-200 µs, and a
message is a couple of dozen statements. Here a connection still opens (and closes) in aiosqlite's
thread, but statements run inline.

What inline must not do is wait: SQLite's busy handler sleeps while another process holds the
lock, and on the loop's thread that would stall every request. So connections open with a busy
timeout of 0; a statement that meets SQLITE_BUSY (another process is writing: a CLI command, a
second server) is retried once in aiosqlite's thread with the full timeout, off the loop. In this
process writers never meet at SQLite's lock: `db._WriterGate` queues them first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

ITER_CHUNK_SIZE = 64


def is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose statements run on the caller's thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout_ms: int) -> None:
        super().__init__(connector, ITER_CHUNK_SIZE)
        self._busy_timeout_ms = busy_timeout_ms
        self._thread.daemon = True  # as SQLAlchemy's aiosqlite dialect does for its connections

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
        # Busy: a statement that failed with SQLITE_BUSY changed nothing, so it is sent again,
        # where waiting is harmless.
        return await super()._execute(self._patiently, fn, args, kwargs)  # type: ignore[no-untyped-call]

    def _patiently(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
        try:
            return fn(*args, **kwargs)
        finally:
            conn.execute("PRAGMA busy_timeout=0")


def creator(path: str, *, busy_timeout_ms: int) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """An `async_creator` for `create_async_engine` opening `path` with inline statements."""

    def connect() -> sqlite3.Connection:
        # Opened in aiosqlite's thread, used from the loop's: the thread check has to go.
        return sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)

    async def create() -> aiosqlite.Connection:
        return await InlineConnection(connect, busy_timeout_ms)

    return create
