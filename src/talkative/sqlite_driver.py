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

SQLAlchemy's async adapter still wraps each statement in coroutines (open the cursor, execute,
fetch, close), each awaited through a greenlet switch: ~3 round trips a statement for work that
never waits. `InlineDBAPI` gives it cursors that call sqlite3 directly and take that road only on
SQLITE_BUSY.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

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


class _Ready:
    """An awaitable that is already done: awaiting it never suspends the task."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # a generator that finishes at once


_READY = _Ready()


class InlineCursor(AsyncAdapt_aiosqlite_cursor):
    """SQLAlchemy's aiosqlite cursor over a plain sqlite3 cursor: statements run synchronously in
    the caller's greenlet (on the loop's thread), the awaited path only when SQLite is busy."""

    __slots__ = ()
    _awaitable_cursor_close = False  # closing a sqlite3 cursor is a plain call

    def _make_new_cursor(self, connection: Any) -> Any:
        return connection._conn.cursor()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._run(self._execute_now, operation, () if parameters is None else parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        return self._run(self._cursor.executemany, operation, seq_of_parameters)

    def _execute_now(self, operation: str, parameters: Sequence[Any]) -> None:
        cursor = cast(sqlite3.Cursor, self._cursor)
        cursor.execute(operation, parameters)
        if cursor.description:
            self._rows = collections.deque(cursor.fetchall())

    def _run(self, fn: Callable[[str, Any], Any], operation: str, parameters: Any) -> Any:
        connection = self._connection
        if not connection._running or connection._connection is None:
            raise ValueError("Connection closed")
        if not self._adapt_connection._execute_mutex.locked():  # nobody is mid-retry on it
            try:
                result = fn(operation, parameters)
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
            else:
                # AsyncConnection.execute insists that its statement awaited something (it takes a
                # statement that did not as a sync driver's): one round trip that never suspends.
                await_(_READY)
                return result
        # Busy (a statement that failed so changed nothing), or another greenlet's retry is under
        # way: through the connection's own queue, where waiting is harmless.
        return await_(self._awaited(fn, operation, parameters))

    async def _awaited(self, fn: Callable[[str, Any], Any], operation: str, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            return await self._connection._execute(fn, operation, parameters)


class InlineAdaptConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = InlineCursor


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module for `create_async_engine(module=...)`: connections with inline cursors."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> InlineAdaptConnection:
        creator_fn = kw.pop("async_creator_fn")
        return InlineAdaptConnection(self, await_(creator_fn(*arg, **kw)))
