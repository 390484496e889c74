"""SQLite statements run on the event loop's thread, and never make it wait for another process."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text

from talkative.db import create_engine, make_sessionmaker
from talkative.sqlite_driver import InlineConnection, is_busy
from tests.waiting import eventually, within


async def test_statements_run_on_the_loop_thread(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver = raw.driver_connection
            assert isinstance(driver, InlineConnection)
            threads: set[int] = set()
            driver._conn.set_trace_callback(lambda _sql: threads.add(threading.get_ident()))
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            assert (await conn.execute(text("SELECT v FROM t"))).scalar_one() == 1
            await conn.commit()
        # Through aiosqlite's own thread these would all be another thread's ident.
        assert threads == {threading.get_ident()}
    finally:
        await engine.dispose()


async def test_statements_skip_the_drivers_coroutines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cursor SQLAlchemy gets calls sqlite3 itself; aiosqlite's awaited cursor is for SQLITE_BUSY."""

    async def refused(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("went through aiosqlite's cursor coroutine")

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}")
    maker = make_sessionmaker(engine)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
        monkeypatch.setattr(aiosqlite.Cursor, "execute", refused)
        monkeypatch.setattr(aiosqlite.Cursor, "executemany", refused)
        monkeypatch.setattr(aiosqlite.Cursor, "fetchall", refused)
        async with maker() as session, session.begin():  # an ORM session, many rows at once
            await session.execute(text("INSERT INTO t VALUES (:v)"), [{"v": 1}, {"v": 2}])
        async with engine.connect() as conn:  # a Core connection, which insists on an await
            assert (await conn.execute(text("SELECT sum(v) FROM t"))).scalar_one() == 3
            assert (await conn.exec_driver_sql("SELECT count(*) FROM t")).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_a_lock_held_by_another_process_is_waited_for_off_the_loop(tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    maker = make_sessionmaker(engine)
    holder = None
    try:
        async with maker() as session, session.begin():
            await session.execute(text("CREATE TABLE t (v INTEGER)"))
        # The other process holds the write lock until the test tells it to commit.
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
                "c.execute('BEGIN IMMEDIATE'); c.execute('INSERT INTO t VALUES (1)')\n"
                "print('held', flush=True); sys.stdin.readline(); c.execute('COMMIT')\n",
                str(db),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert holder.stdin is not None and holder.stdout is not None
        assert await asyncio.to_thread(holder.stdout.readline) == b"held\n"

        async def insert() -> None:
            async with maker() as session, session.begin():
                await session.execute(text("INSERT INTO t VALUES (2)"))

        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        inserting = asyncio.create_task(insert())
        ticking = asyncio.create_task(ticker())
        # Had SQLite's busy handler slept on the loop's thread, nothing else would run on the loop
        # until its timeout gave up with "database is locked" (the holder waits for this test).
        await eventually(lambda: ticks >= 20, what="the loop stalled while the insert waited")
        ticking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticking
        assert not inserting.done(), "the other process's lock should have been waited for"
        holder.stdin.write(b"commit\n")
        holder.stdin.close()
        await within(inserting, what="the insert never got the lock once it was free")
        async with maker() as session:
            values = (await session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all()
        assert values == [1, 2]
    finally:
        if holder is not None:
            if holder.stdin is not None and not holder.stdin.closed:
                holder.stdin.close()
            holder.wait(timeout=10)
            assert holder.stdout is not None
            holder.stdout.close()
        await engine.dispose()


def test_busy_is_told_apart_from_other_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "codes.db")
    first = sqlite3.connect(db, isolation_level=None)
    second = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        first.execute("BEGIN IMMEDIATE")
        try:
            second.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            assert is_busy(exc)
        else:
            raise AssertionError("the second writer should have met the lock")
        try:
            second.execute("SELECT * FROM missing")
        except sqlite3.OperationalError as exc:
            assert not is_busy(exc)
    finally:
        first.close()
        second.close()
