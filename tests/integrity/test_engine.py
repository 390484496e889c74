"""The database engine's own checks: SQLite's foreign key check, PostgreSQL's invalid indexes and
(when the extension is there already) amcheck. Each engine's check is tested on its engine."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from talkative import migrations
from talkative.integrity import service
from talkative.integrity.findings import Check, Report
from tests.conftest import fresh_pg_database


def _check(url: str, root: Path) -> Report:
    return asyncio.run(service.run_check(url, workspaces_root=root))


def test_sqlite_foreign_key_violation_is_found(tmp_path: Path) -> None:
    path = tmp_path / "talkative.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrations.upgrade(url)
    assert _check(url, tmp_path).ok
    with sqlite3.connect(path) as db:  # foreign keys are off unless asked for: as an old tool would write
        db.execute(
            "INSERT INTO run_steps (run_id, idx, kind, name, spec, status, attempts)"
            " VALUES ('run_nowhere', 0, 'task', 'orphan', '{}', 'pending', 0)"
        )
    report = _check(url, tmp_path)
    assert [(f.check, f.subjects) for f in report.findings] == [
        (Check.ENGINE_FOREIGN_KEYS, ("run_steps", "rowid:1"))
    ]
    assert "missing row of runs" in report.findings[0].detail


async def _pg(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def test_postgresql_invalid_index_is_found_and_amcheck_used_when_installed(tmp_path: Path) -> None:
    with fresh_pg_database("talkative_integrity") as url:
        migrations.upgrade(url)
        plain = _check(url, tmp_path)
        assert plain.ok and Check.ENGINE_BTREE_INDEX not in plain.ran  # amcheck is never installed here
        asyncio.run(
            _pg(
                url,
                "CREATE EXTENSION amcheck",
                "INSERT INTO workflows (id, tenant_id, name, version, created_at, updated_at)"
                " VALUES ('w1', 't', 'same', 0, now(), now()), ('w2', 't', 'same', 0, now(), now())",
            )
        )
        # A unique index built concurrently over duplicates fails, and stays behind invalid.
        with pytest.raises(asyncpg.UniqueViolationError):
            asyncio.run(_pg(url, "CREATE UNIQUE INDEX CONCURRENTLY ix_broken ON workflows (name)"))
        report = _check(url, tmp_path)
    assert Check.ENGINE_BTREE_INDEX in report.ran
    assert [(f.check, f.subjects) for f in report.findings] == [
        (Check.ENGINE_INVALID_INDEX, ("workflows", "ix_broken"))
    ]
