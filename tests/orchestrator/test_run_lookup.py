"""Runs are read in the caller's tenant only: another tenant's run is exactly as missing as one
that does not exist, and a list is the scope's newest runs (of an agent, in a status), oldest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from fastapi import FastAPI
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.runs import service as runs
from talkative.runs.models import Run

Auth = Callable[..., dict[str, str]]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


async def _add(app: FastAPI, *rows: tuple[str, str, str, str, int]) -> None:
    """(id, tenant, agent, status, minutes after T0) runs, stored one by one in the order given."""
    for run_id, tenant, agent, status, minutes in rows:
        async with app.state.sessionmaker() as session, session.begin():
            at = T0 + timedelta(minutes=minutes)
            session.add(
                Run(
                    id=run_id, tenant_id=tenant, agent_id=agent, kind="message", status=status,
                    subagent_state="idle", created_at=at, updated_at=at,
                )
            )  # fmt: skip


async def _ids(app: FastAPI, tenant: str | None, limit: int = 50, **filters: str) -> list[str]:
    async with app.state.sessionmaker() as session:
        found = await runs.list_runs(
            session,
            tenant_id=tenant,
            agent_id=filters.get("agent_id"),
            status=filters.get("status"),
            limit=limit,
        )
    return [r.id for r in found]


async def test_another_tenants_run_is_reported_exactly_like_a_missing_one(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await _add(app, ("run_a", "tenant-a", "bot", "completed", 0))

    theirs = await client.get("/orchestrator/runs/run_a", headers=auth("admin", "tenant-b"))
    missing = await client.get("/orchestrator/runs/run_nope", headers=auth("admin", "tenant-b"))

    assert (theirs.status_code, theirs.json()) == (
        404,
        {"error": "run 'run_a' not found", "code": "RUN_NOT_FOUND"},
    )
    assert missing.json() == {"error": "run 'run_nope' not found", "code": "RUN_NOT_FOUND"}
    assert (
        await client.get("/orchestrator/runs/run_a", headers=auth("viewer", "tenant-a"))
    ).status_code == 200
    assert (await client.get("/orchestrator/runs/run_a", headers=auth("admin", None))).status_code == 200


class _Capture:
    """A session that records the statement `runs.get` sends, and finds `run`."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.statements: list[Any] = []

    async def scalar(self, statement: Any) -> Run:
        self.statements.append(statement)
        return self.run


async def test_only_a_get_for_update_locks_the_run_row() -> None:
    session = _Capture(Run(id="run_a", tenant_id="tenant-a"))

    for for_update in (False, True):
        found = await runs.get(
            cast(AsyncSession, session), "run_a", tenant_id="tenant-a", for_update=for_update
        )
        assert found is session.run
    await runs.get(cast(AsyncSession, session), "run_a")  # a plain read

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    locking = ["FOR UPDATE" in str(s.compile(dialect=dialect)) for s in session.statements]
    assert locking == [False, True, False]


async def test_a_list_is_the_scopes_newest_runs_oldest_first(app: FastAPI) -> None:
    # Ids sort against creation time, so an order by id alone would pick others.
    await _add(
        app,
        ("run_z", "tenant-a", "bot", "completed", 0),
        ("run_a", "tenant-a", "bot", "failed", 1),
        ("run_m", "tenant-a", "helper", "completed", 2),
        ("run_b", "tenant-b", "bot", "completed", 3),
    )

    assert await _ids(app, "tenant-a", limit=2) == ["run_a", "run_m"]
    assert await _ids(app, "tenant-a") == ["run_z", "run_a", "run_m"]
    assert await _ids(app, None, limit=3) == ["run_a", "run_m", "run_b"]
    assert await _ids(app, "tenant-a", agent_id="bot") == ["run_z", "run_a"]
    assert await _ids(app, None, agent_id="bot") == ["run_z", "run_a", "run_b"]
    assert await _ids(app, "tenant-a", status="completed") == ["run_z", "run_m"]
    assert await _ids(app, "tenant-a", agent_id="bot", status="failed") == ["run_a"]


async def test_runs_created_at_the_same_moment_are_listed_by_id(app: FastAPI) -> None:
    # Stored in an order that is neither the ids' nor their reverse.
    await _add(
        app,
        ("run_2", "tenant-a", "bot", "completed", 0),
        ("run_3", "tenant-a", "bot", "completed", 0),
        ("run_1", "tenant-a", "bot", "completed", 0),
    )

    assert await _ids(app, "tenant-a", limit=2) == ["run_2", "run_3"]
    assert await _ids(app, None, limit=2) == ["run_2", "run_3"]
