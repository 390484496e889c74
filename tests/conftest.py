"""Shared fixtures: a fresh database per session on SQLite and PostgreSQL, apps, clients, tokens."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

from talkative import models_registry
from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from talkative.db import Base
from talkative.main import create_app
from talkative.observability import tracing
from talkative.settings import Settings

PG_ADMIN_DSN = os.environ.get("TALKATIVE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_SECRET = secrets.token_urlsafe(48)
BACKENDS = ("sqlite", "postgresql")

TokenFactory = Callable[..., str]


def _pg_url(database: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{database}".replace("postgresql://", "postgresql+asyncpg://", 1)


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def fresh_pg_database(prefix: str = "talkative_fresh") -> Iterator[str]:
    """An empty PostgreSQL database of its own (migration and multi-process tests), dropped after."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend, not migrated: for tests that run migrations or servers."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database created for this test session and dropped after it."""
    name = f"talkative_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({exc}); "
            "`make test` starts one (scripts/ensure-postgres.sh)"
        )
    yield _pg_url(name)
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'talkative.db'}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Settings:
    """A test module may set `SETTINGS = {"TALKATIVE_...": ...}` for settings of its own."""
    return Settings(
        TALKATIVE_DATA_DIR=tmp_path / "data",
        TALKATIVE_DATABASE_URL=database_url,
        AUTH_JWT_SECRET=TEST_SECRET,
        **getattr(request.module, "SETTINGS", {}),
    )


async def truncate_all(url: str) -> None:
    """Empties the shared test database (every table of the models) for the next test."""
    models_registry.import_all()
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1), timeout=10)
    try:
        # A process still holding a table (a server a test failed to stop) fails the test, not the suite.
        await conn.execute("SET lock_timeout = '20s'")
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Runs the app's lifespan. On PostgreSQL the test database is shared by the session, so it is
    emptied afterwards: once the app has stopped (no loop of its own is then in a transaction that
    a TRUNCATE could deadlock with), and also when the app failed to start, so that one test's
    leftovers can never fail the tests after it."""
    url = app.state.settings.resolved_database_url
    try:
        async with app.router.lifespan_context(app):
            yield app
    finally:
        if url.startswith("postgresql"):
            await truncate_all(url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with serving(create_app(settings)) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://talkative.test") as http:
        yield http


@pytest.fixture
def make_token() -> TokenFactory:
    def factory(
        role: str = "operator",
        tenant: str | None = "tenant-a",
        sub: str = "tester",
        ttl: timedelta = timedelta(hours=1),
    ) -> str:
        return mint_token(secret=TEST_SECRET, sub=sub, role=Role(role), tenant_id=tenant, ttl=ttl)

    return factory


@pytest.fixture
def auth(make_token: TokenFactory) -> Callable[..., dict[str, str]]:
    """Authorization headers for a role and tenant."""

    def headers(
        role: str = "operator", tenant: str | None = "tenant-a", sub: str = "tester"
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(role, tenant, sub)}"}

    return headers


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans recorded in memory (the SDK's own exporter) while the test runs."""
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    try:
        yield exporter
    finally:
        tracing.use(NoOpTracerProvider())
        provider.shutdown()
