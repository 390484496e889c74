"""Leases short enough to expire during a test: a holder that lost its run stops at once, one
that still holds it keeps it however long its work takes."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.db import db_now
from talkative.orchestrator import leases
from talkative.runs.models import Run
from talkative.runtime import Runtime
from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import get_run, wait_run
from tests.llm_router.fake_openai import FakeOpenAI, Reply, answer_json
from tests.orchestrator.conftest import route_to_remote
from tests.orchestrator.test_fencing import event_types, fenced, gated_run, held, take_over
from tests.waiting import eventually, released

LEASE_S = 1
SETTINGS = {"TALKATIVE_MESSAGE_WAIT_S": 0, "TALKATIVE_RUN_LEASE_S": LEASE_S, "TALKATIVE_TOOL_TIMEOUT_S": 600}


async def test_a_worker_that_lost_its_lease_kills_its_tool_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    run_id, workspace = await gated_run(client, auth, settings, "frozen")
    before = fenced("step")
    await take_over(app, run_id)

    # The step waits for a file the test never writes: only the lost lease can end it this soon.
    await eventually(
        lambda: released(workspace / "outputs/gate-a-1.alive"), what="the tool outlived its lease"
    )
    await eventually(lambda: fenced("step") > before, what="the stale outcome was not refused")
    assert "TOOL_RUN_FINISHED" not in await event_types(app, run_id)
    assert [(s["status"], s["attempts"]) for s in (await get_run(client, auth(), run_id))["plan"]] == [
        ("running", 2)
    ]
    assert not (workspace / "outputs/executions.log").exists()


async def test_a_step_whose_lease_cannot_be_renewed_is_stopped_and_run_again(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No renewal gets through (the database out of reach) for a whole lease: another process may
    have the run by now, so the step stops and writes nothing; it runs again once the run is free."""
    renew = leases.renew
    unreachable = True

    async def failing(runtime: Runtime, run_id: str, owner: str) -> Run:
        if unreachable:
            raise OperationalError("UPDATE runs", None, Exception("connection refused"))
        return await renew(runtime, run_id, owner)

    monkeypatch.setattr(leases, "renew", failing)
    run_id, workspace = await gated_run(client, auth, settings, "cutoff")
    before = fenced("step")

    await eventually(
        lambda: released(workspace / "outputs/gate-a-1.alive"), what="the tool outlived its lease"
    )
    unreachable = False
    await eventually(
        lambda: (workspace / "outputs/gate-a-2.alive").exists(), what="the step was not run again"
    )
    (workspace / "inputs/go-2").write_text("")
    run = await wait_run(client, auth(), run_id, lambda r: r["status"] != "running")

    assert [(s["status"], s["attempts"]) for s in run["plan"]] == [("done", 2)]
    assert (await event_types(app, run_id)).count("TOOL_RUN_FINISHED") == 1
    assert (workspace / "outputs/executions.log").read_text() == "gate-a 2\n"
    assert fenced("step") == before + 1


async def test_a_model_call_longer_than_the_lease_keeps_its_run(
    remote: tuple[FastAPI, httpx.AsyncClient], fake_openai: FakeOpenAI, auth: Auth
) -> None:
    """The planner renews its lease during the call: the worker, looking every poll for runs
    whose holder stopped, leaves this one alone, and the run is planned when the answer comes."""
    app, client = remote
    await running_agent(client, auth(), "patient")
    await route_to_remote(client, auth)
    answer = threading.Event()
    fake_openai.reply = Reply(content=answer_json(["Check the inbox"]), gate=answer)
    sent = asyncio.create_task(
        client.post("/agents/patient/message", json={"message": "check the inbox"}, headers=auth())
    )
    try:
        await eventually(lambda: fake_openai.count == 1, what="the model was never called")
        first = await lease_until(app)
        # Three leases' time by the database's clock, all of it spent in the call.
        await eventually(lambda: outlasted(app, first), what="the database's clock stood still")
        assert await lease_until(app) > first, "the lease was not renewed"
    finally:
        answer.set()
    reply = (await sent).json()

    assert reply["run_status"] == "completed", reply
    assert "INTERPRETATION_RESULT" in await event_types(app, reply["run_id"])
    assert await held(client, auth) == []


async def lease_until(app: FastAPI) -> datetime:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with maker() as session:
        run = await session.scalar(select(Run).where(Run.agent_id == "patient"))
        assert run is not None and run.status == "pending" and run.lease_until is not None, run
        return run.lease_until


async def outlasted(app: FastAPI, first: datetime) -> bool:
    async with app.state.sessionmaker() as session:
        return (await db_now(session) - first).total_seconds() > 2 * LEASE_S
