"""The database check behind /health: shared by concurrent requests, a success remembered briefly,
a database that goes away reported once that success is stale, a failure never remembered."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from talkative.db import create_engine
from talkative.main import create_app
from talkative.observability.health import FRESH_S, DatabaseCheck, HealthFastPath
from talkative.settings import Settings
from tests.conftest import BACKENDS, _pg_admin, _pg_url


@dataclass
class VanishingDatabase:
    """A real database that can be taken away under its engine and brought back."""

    backend: str
    engine: AsyncEngine
    where: Path | str  # SQLite: the file's directory; PostgreSQL: the database's name

    async def go_away(self) -> None:
        if isinstance(self.where, Path):
            await self.engine.dispose()  # open connections would keep the unlinked file alive
            self.where.rename(self.where.with_name("gone"))
        else:
            await _pg_admin(f'DROP DATABASE "{self.where}" WITH (FORCE)')

    async def come_back(self) -> None:
        if isinstance(self.where, Path):
            self.where.with_name("gone").rename(self.where)
        else:
            await _pg_admin(f'CREATE DATABASE "{self.where}"')


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VanishingDatabase]:
    if request.param == "sqlite":
        folder = tmp_path / "db"
        folder.mkdir()
        engine = create_engine(f"sqlite+aiosqlite:///{folder / 'talkative.db'}")
        yield VanishingDatabase("sqlite", engine, folder)
        await engine.dispose()
        return
    name = f"talkative_health_{secrets.token_hex(4)}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(_pg_url(name), timeout_s=2)
    try:
        yield VanishingDatabase("postgresql", engine, name)
    finally:
        await engine.dispose()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def count_pings(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    def record(*args: object) -> None:
        if str(args[2]).strip() == "SELECT 1":
            seen.append("ping")

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_a_database_that_goes_away_is_reported_once_the_success_is_stale(
    database: VanishingDatabase,
) -> None:
    clock = Clock()
    check = DatabaseCheck(clock=clock)
    assert await check.problem(database.engine, timeout_s=2) is None

    await database.go_away()
    # Within FRESH_S the success of a moment ago stands: no request asks the database.
    assert await check.problem(database.engine, timeout_s=2) is None
    clock.now += FRESH_S
    problem = await check.problem(database.engine, timeout_s=2)
    assert problem is not None and problem.startswith("unreachable: ")

    # A failure is never remembered: the database is asked again, and back, at once.
    await database.come_back()
    assert await check.problem(database.engine, timeout_s=2) is None


async def test_concurrent_requests_share_one_ping(database: VanishingDatabase) -> None:
    clock = Clock()
    check = DatabaseCheck(clock=clock)
    pings = count_pings(database.engine)
    answers = await asyncio.gather(*(check.problem(database.engine, timeout_s=2) for _ in range(8)))
    assert answers == [None] * 8 and len(pings) == 1
    clock.now += FRESH_S
    assert await check.problem(database.engine, timeout_s=2) is None
    assert len(pings) == 2


async def test_a_request_that_leaves_does_not_cancel_the_others_ping(database: VanishingDatabase) -> None:
    check = DatabaseCheck(clock=Clock())
    leaving = asyncio.ensure_future(check.problem(database.engine, timeout_s=2))
    staying = asyncio.ensure_future(check.problem(database.engine, timeout_s=2))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying is None
    assert leaving.cancelled()


async def test_health_answers_503_when_the_database_goes_away_despite_the_cache(
    app: FastAPI, client: httpx.AsyncClient, database: VanishingDatabase
) -> None:
    clock = Clock()
    own_engine, own_check = app.state.engine, app.state.database_check
    app.state.engine, app.state.database_check = database.engine, DatabaseCheck(clock=clock)
    try:
        assert (await client.get("/health")).status_code == 200
        await database.go_away()
        clock.now += FRESH_S
        response = await client.get("/health")
        assert response.status_code == 503
        assert response.json()["ok"] is False
        assert response.json()["database"].startswith("unreachable: ")
        await database.come_back()
        assert (await client.get("/health")).status_code == 200
    finally:
        app.state.engine, app.state.database_check = own_engine, own_check


async def test_the_fast_path_and_the_route_give_the_same_answer(
    app: FastAPI, settings: Settings, database: VanishingDatabase
) -> None:
    """GET /health is answered before routing; an app without the fast path reaches the route."""

    def fast(middleware: object) -> bool:
        return getattr(middleware, "cls", None) is HealthFastPath

    assert any(fast(m) for m in app.user_middleware)
    routed = create_app(settings)  # never started: /health needs only what is set below
    routed.user_middleware = [m for m in routed.user_middleware if not fast(m)]
    own = app.state.engine, app.state.database_check, app.state.schema_revision, app.state.revision
    answers = []
    try:
        for each in (app, routed):
            each.state.engine, each.state.schema_revision, each.state.revision = (
                database.engine,
                "0001",
                "abc",
            )
            each.state.database_check = DatabaseCheck(clock=Clock())
            transport = httpx.ASGITransport(app=each)
            async with httpx.AsyncClient(transport=transport, base_url="http://talkative.test") as http:
                ok = await http.get("/health")
                each.state.database_check = DatabaseCheck(clock=Clock())
                await database.go_away()
                down = await http.get("/health")
                await database.come_back()
            answers.append([(r.status_code, r.headers["content-type"], r.json()) for r in (ok, down)])
    finally:
        app.state.engine, app.state.database_check, app.state.schema_revision, app.state.revision = own
    assert answers[0] == answers[1]
    assert [status for status, _, _ in answers[0]] == [200, 503]


async def test_health_checks_keep_their_request_id_and_metrics_label(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "probe-1"
    text = (await client.get("/metrics")).text
    assert 'talkative_http_requests_total{endpoint="/health",method="GET"}' in text
