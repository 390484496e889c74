"""SQLite writers of one process queue on an asyncio lock, not in SQLite's sleeping busy handler."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event, text

from talkative.db import create_engine, make_sessionmaker


async def test_a_second_writer_starts_only_after_the_first_commits(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    sent: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2].split()[0].upper()))
    maker = make_sessionmaker(engine)
    try:
        async with maker() as session, session.begin():
            await session.execute(text("CREATE TABLE t (v INTEGER)"))
        sent.clear()

        first_wrote = asyncio.Event()

        async def first() -> None:
            async with maker() as session, session.begin():
                await session.execute(text("INSERT INTO t VALUES (1)"))
                first_wrote.set()
                await asyncio.sleep(0.2)  # holds the write lock while the second one asks for it

        async def second() -> None:
            await first_wrote.wait()
            async with maker() as session, session.begin():
                await session.execute(text("INSERT INTO t VALUES (2)"))

        await asyncio.gather(first(), second())
        # Without the gate the second BEGIN IMMEDIATE reaches SQLite (and its busy handler's
        # sleeps) while the first transaction is still open.
        assert sent == ["BEGIN", "INSERT", "COMMIT", "BEGIN", "INSERT", "COMMIT"], sent
        async with maker() as session:
            assert (await session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == [1, 2]
    finally:
        await engine.dispose()


async def test_a_failed_transaction_releases_the_writer_lock(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    maker = make_sessionmaker(engine)
    try:
        async with maker() as session, session.begin():
            await session.execute(text("CREATE TABLE t (v INTEGER NOT NULL)"))
        for _ in range(3):
            try:
                async with maker() as session, session.begin():
                    await session.execute(text("INSERT INTO t VALUES (NULL)"))
            except Exception as exc:  # the constraint fails; the rollback must free the gate
                assert "NOT NULL" in str(exc)
        async with asyncio.timeout(5), maker() as session, session.begin():
            await session.execute(text("INSERT INTO t VALUES (3)"))
    finally:
        await engine.dispose()
