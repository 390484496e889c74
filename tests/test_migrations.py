"""The migrations and the models describe the same schema, and every migration can be undone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from talkative import migrations, models_registry
from talkative.db import Base, create_engine


def _diff(url: str) -> list[object]:
    models_registry.import_all()

    def compare(sync: Connection) -> list[object]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async def run() -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}"


def test_models_match_migrations(sqlite_url: str) -> None:
    migrations.upgrade(sqlite_url)
    assert _diff(sqlite_url) == []


def test_downgrade_to_nothing_and_back(sqlite_url: str) -> None:
    migrations.upgrade(sqlite_url)
    migrations.downgrade(sqlite_url, "base")
    assert _tables(sqlite_url) <= {"alembic_version"}
    migrations.upgrade(sqlite_url)
    assert {"agents", "events", "runs", "run_steps", "approvals", "prompts"} <= _tables(sqlite_url)


def test_models_match_migrations_on_postgresql(pg_database: str) -> None:
    migrations.upgrade(pg_database)
    assert _diff(pg_database) == []
