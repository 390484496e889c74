"""Leases and due times by the database's clock: a process whose own clock is off (another machine
of the cluster) neither takes a run over early nor late, nor fires a heartbeat early.

PostgreSQL only: on SQLite every process is on one machine, whose clock is the database's.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative import db
from talkative.agents.models import Agent
from talkative.db import db_now
from talkative.observability.metrics import REGISTRY
from talkative.orchestrator import scheduler
from talkative.runs.models import Run
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.waiting import eventually

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
HELD_BY = "other-host:1:worker:abcdef"


def skew_local_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    """This process's clock, `by` off the database's: every module's `utcnow`."""
    real = db.utcnow

    def skewed() -> datetime:
        return real() + by

    for name, module in list(sys.modules.items()):
        if name.startswith("talkative") and getattr(module, "utcnow", None) is real:
            monkeypatch.setattr(module, "utcnow", skewed)


async def held_run(app: FastAPI, lease: timedelta) -> str:
    """A planned running run held by another worker until `lease` from now, by the database."""
    async with app.state.sessionmaker() as session, session.begin():
        now = await db_now(session)
        run = Run(
            id="run_held",
            tenant_id="tenant-a",
            agent_id="elsewhere",
            kind="message",
            input="",
            status="running",
            subagent_state="running",
            result={"summary": "planned"},
            lease_owner=HELD_BY,
            lease_until=now + lease,
            created_at=now,
            updated_at=now,
        )
        session.add(run)
    return run.id


async def owner_of(app: FastAPI, run_id: str) -> str | None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with maker() as session:
        run = await session.get(Run, run_id)
        assert run is not None
        return run.lease_owner


def takeovers() -> float:
    return REGISTRY.get_sample_value("talkative_lease_takeovers_total") or 0.0


async def test_a_worker_whose_clock_runs_ahead_does_not_take_over_a_valid_lease(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = await held_run(app, timedelta(minutes=1))
    skew_local_clock(monkeypatch, timedelta(days=1))

    assert await app.state.runtime.worker.claim(10) == []
    assert await owner_of(app, run_id) == HELD_BY  # nor did the worker's own pass take it


async def test_a_worker_whose_clock_runs_behind_takes_over_an_expired_lease(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = takeovers()
    skew_local_clock(monkeypatch, timedelta(days=-1))
    run_id = await held_run(app, timedelta(seconds=-1))
    app.state.runtime.worker.wake()

    await eventually(lambda: takeovers() > before, what="the expired lease was not taken over")
    assert await owner_of(app, run_id) != HELD_BY


async def test_a_heartbeat_is_due_by_the_database_clock(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    await running_agent(client, auth(), "beating")  # due a heartbeat period from now
    due = await next_heartbeat(app, "beating")
    skew_local_clock(monkeypatch, timedelta(days=1))

    assert await scheduler.claim_due_heartbeats(app.state.runtime) == []
    assert await next_heartbeat(app, "beating") == due  # nor did the scheduler's own pass claim it


async def next_heartbeat(app: FastAPI, agent_id: str) -> datetime | None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with maker() as session:
        agent = await session.get(Agent, ("tenant-a", agent_id))
        assert agent is not None
        return agent.next_heartbeat_at
