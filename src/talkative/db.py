"""Engine, sessions and the declarative base; one unit of work per request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from sqlalchemy import DateTime, Executable, MetaData, Result, Select, event, make_url, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only
from starlette.requests import HTTPConnection

from talkative import sqlite_driver

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000
_T = TypeVar("_T")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


_CLOCK = text("SELECT clock_timestamp()")


async def db_now(session: AsyncSession) -> datetime:
    """The time by the database's clock: leases and due times are compared by every process of a
    cluster, and machines' clocks drift apart while the database's is one. PostgreSQL's
    `clock_timestamp()` (not `now()`, the transaction's start: a lock waited for would make it
    stale). On SQLite, one machine, the local clock is that clock and costs no query."""
    if session.get_bind().dialect.name == "postgresql":
        value: datetime = (await core_execute(session, _CLOCK)).scalar_one()
        return value.astimezone(UTC)
    return utcnow()


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
    # The busy timeout (writers of other processes queue instead of failing with "database is
    # locked") is set when connecting: see sqlite_driver for why it is 0 on the loop's thread.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, *, timeout_s: float = 5.0) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if is_sqlite(url):
        # No pre-ping: a connection to a local file does not go stale, and a SELECT 1 on every
        # checkout was a tenth of a small request's statements.
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        database = make_url(url).database
        if database and database != ":memory:" and not make_url(url).query:
            kwargs["async_creator"] = sqlite_driver.creator(database, busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS)
            kwargs["module"] = sqlite_driver.InlineDBAPI()
    else:
        kwargs["pool_pre_ping"] = True  # a server connection can be dropped while pooled
        kwargs["connect_args"] = {"timeout": timeout_s, "command_timeout": 60}
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 10
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        gate = _WriterGate()
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", gate.begin)
        event.listen(engine.sync_engine, "commit", gate.commit)
        event.listen(engine.sync_engine, "rollback", gate.rollback)
    return engine


class _WriterGate:
    """SQLite's single writer, queued in this process rather than inside SQLite.

    A deferred transaction that reads, then writes, fails with SQLITE_BUSY when another writer
    committed in between (the busy timeout cannot help there), so every transaction takes the
    write lock up front with BEGIN IMMEDIATE. Left to SQLite, the writers of one process would then
    wait in its busy handler, which polls with sleeps of up to 100 ms: a queue of a few writers
    costs far more than their work. Here they wait on an asyncio lock instead and start the moment
    the previous one has committed; other processes still meet at SQLite's lock.

    The hooks run inside SQLAlchemy's greenlet, where `await_only` may wait on the event loop. The
    gate is released only once COMMIT/ROLLBACK has run (issued here; the driver's own call then has
    no transaction left to end), so the next writer never finds SQLite's lock still held.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: Connection | None = None

    def begin(self, conn: Connection) -> None:
        if not self._lock.locked():  # free: taken at once (wait_for would cost a task and a loop pass)
            await_only(self._lock.acquire())
        else:
            try:
                await_only(asyncio.wait_for(self._lock.acquire(), SQLITE_BUSY_TIMEOUT_MS / 1000))
            except TimeoutError:
                raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked")) from None
        self._holder = conn
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._release(conn)
            raise

    def commit(self, conn: Connection) -> None:
        try:
            conn.exec_driver_sql("COMMIT")
        finally:
            self._release(conn)

    def rollback(self, conn: Connection) -> None:
        try:
            if not conn.invalidated and conn.connection.dbapi_connection is not None:
                conn.exec_driver_sql("ROLLBACK")
        except Exception:  # noqa: S110 - the driver's own rollback follows and reports real trouble
            pass
        finally:
            self._release(conn)

    def _release(self, conn: Connection) -> None:
        if self._holder is conn and self._lock.locked():
            self._holder = None
            self._lock.release()


def make_sessionmaker(
    engine: AsyncEngine, info: dict[str, object] | None = None
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, info=info or {})


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed here, once, before the response is sent.

    Routes depend on it with `scope="function"` so the commit happens before the
    response leaves; a failed commit therefore becomes an error, never a lost write.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = conn.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The request's unit of work; `scope="function"` commits before the response is sent.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def core_execute(
    session: AsyncSession, statement: Executable, params: dict[str, Any] | list[dict[str, Any]] | None = None
) -> Result[*tuple[Any, ...]]:
    """A Core statement on the session's connection, skipping the ORM's layers (autoflush, ORM
    compile state; ~45 µs a statement). For statements on plain columns that need no pending ORM
    change flushed before them."""
    return await (await session.connection()).execute(statement, params)


async def newest_last(session: AsyncSession, query: Select[_T]) -> list[_T]:
    """Runs a query ordered newest first (with its limit) and returns the rows oldest first.

    Every list endpoint returns "the newest N, newest last"; ordering descending lets the index
    serve the limit, the reversal gives the API's order.
    """
    return list(reversed((await session.scalars(query)).all()))
