"""Fencing: a worker or planner that lost its run meanwhile writes nothing of its stale outcome.

A takeover is staged in the database the way another process makes it (the run's owner changed,
the step begun again, or the planner's lease expired); the stale holder is this app's own worker
or flow, which carries on unaware until it tries to write.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from talkative.db import utcnow
from talkative.events.models import EventRow
from talkative.observability.metrics import REGISTRY
from talkative.orchestrator.leases import PLANNER_STOPPED
from talkative.runs.models import Run, RunStep
from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import attach_skill, running_agent
from tests.factories.runs import get_run, start_task, wait_run
from tests.factories.skills import write_gated_skill
from tests.llm_router.fake_openai import FakeOpenAI, Reply, answer_json
from tests.orchestrator.conftest import route_to_remote
from tests.waiting import eventually

SETTINGS = {"TALKATIVE_MESSAGE_WAIT_S": 0}


def fenced(phase: str) -> float:
    return REGISTRY.get_sample_value("talkative_fenced_writes_total", {"phase": phase}) or 0.0


async def event_types(app: FastAPI, run_id: str) -> list[str]:
    async with app.state.sessionmaker() as session:
        query = select(EventRow.type).where(EventRow.run_id == run_id).order_by(EventRow.id)
        return list((await session.scalars(query)).all())


async def gated_run(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, agent: str
) -> tuple[str, Path]:
    """A run whose one tool step has started and waits for the test (inputs/go-1)."""
    await running_agent(client, auth(), agent)
    workspace = settings.workspaces_dir / "tenant-a" / agent
    write_gated_skill(workspace, "gate-a", "alpha")
    await attach_skill(client, auth(), agent, "gate-a")
    run_id = str((await start_task(client, auth(), agent, "alpha"))["run_id"])
    await eventually(lambda: (workspace / "outputs/gate-a-1.alive").exists(), what="the step never started")
    return run_id, workspace


async def take_over(app: FastAPI, run_id: str) -> None:
    """What another worker does once this one's lease has expired: the run is its own, and it
    begins the step again (attempt 2)."""
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(lease_owner="other-host:1:worker:abcdef", lease_until=utcnow() + timedelta(hours=1))
        )
        await session.execute(
            update(RunStep).where(RunStep.run_id == run_id, RunStep.idx == 0).values(attempts=2)
        )


async def test_a_step_outcome_is_not_written_once_another_worker_took_the_run(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    run_id, workspace = await gated_run(client, auth, settings, "stale")
    await take_over(app, run_id)
    before = fenced("step")
    (workspace / "inputs/go-1").write_text("")  # the stale step finishes its work

    await eventually(lambda: fenced("step") > before, what="the stale outcome was not refused")
    assert "TOOL_RUN_FINISHED" not in await event_types(app, run_id)
    run = await get_run(client, auth(), run_id)
    # As the worker that took over left it: its attempt still running, the run still its own.
    assert [(s["status"], s["attempts"]) for s in run["plan"]] == [("running", 2)]
    assert run["status"] == "running"


async def test_a_step_cancelled_while_it_worked_is_still_recorded(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    """Nobody else holds a run that ended while its step worked: that step's outcome is the
    worker's to write (the fence refuses other holders, not the end of the run)."""
    run_id, workspace = await gated_run(client, auth, settings, "ended")
    before = fenced("step")
    cancelled = await client.post(f"/orchestrator/runs/{run_id}/cancel", headers=auth())
    assert cancelled.status_code == 200, cancelled.text

    run = await wait_run(client, auth(), run_id, lambda r: r["plan"][0]["status"] != "running")
    assert run["status"] == "cancelled"
    assert [(s["status"], s["attempts"]) for s in run["plan"]] == [("cancelled", 1)]
    assert "TOOL_RUN_FINISHED" in await event_types(app, run_id)
    assert fenced("step") == before
    assert not (workspace / "outputs/executions.log").exists()


async def test_a_planner_that_lost_its_run_during_the_model_call_writes_nothing(
    remote: tuple[FastAPI, httpx.AsyncClient], fake_openai: FakeOpenAI, auth: Auth
) -> None:
    """The planner's lease expired during the call (as if its process had stopped): a worker fails
    the run and releases its budget hold; the planner's late answer is not written."""
    app, client = remote
    await running_agent(client, auth(), "thinker")
    await route_to_remote(client, auth)
    answer = threading.Event()
    fake_openai.reply = Reply(content=answer_json(["Check the inbox"]), gate=answer)
    sent = asyncio.create_task(
        client.post("/agents/thinker/message", json={"message": "check the inbox"}, headers=auth())
    )
    try:
        await eventually(lambda: fake_openai.count == 1, what="the model was never called")
        async with app.state.sessionmaker() as session, session.begin():
            run = await session.scalar(select(Run).where(Run.agent_id == "thinker"))
            assert run is not None and run.status == "pending" and run.lease_owner is not None
            run_id = run.id
            # Its planner's lease, expired: as if the planner had stopped renewing it long ago.
            run.lease_owner, run.lease_until = "stopped-host:1:plan:abcdef", utcnow() - timedelta(seconds=1)
        app.state.runtime.worker.wake()

        failed = await wait_run(client, auth(), run_id, lambda r: r["status"] != "pending")
        assert (failed["status"], failed["last_error"]) == ("failed", PLANNER_STOPPED)
        assert await held(client, auth) == []
        assert await spent_today(client, auth) == 0.0
        before = fenced("plan")
    finally:
        answer.set()
    reply = (await sent).json()

    assert (reply["run_id"], reply["run_status"]) == (run_id, "failed")
    assert fenced("plan") == before + 1
    assert await event_types(app, run_id) == ["RUN_FAILED"]  # nothing of the late answer
    assert [r["status"] for r in await usage_rows(client, auth)] == ["released"]  # released, not settled
    assert await spent_today(client, auth) == 0.0


async def usage_rows(client: httpx.AsyncClient, auth: Auth) -> list[dict[str, object]]:
    response = await client.get("/router/admin/usage", headers=auth("admin", None))
    assert response.status_code == 200, response.text
    rows: list[dict[str, object]] = response.json()["usage"]
    return rows


async def held(client: httpx.AsyncClient, auth: Auth) -> list[dict[str, object]]:
    return [r for r in await usage_rows(client, auth) if r["status"] == "reserved"]


async def spent_today(client: httpx.AsyncClient, auth: Auth) -> float:
    response = await client.get(
        "/router/admin/budgets", params={"tenant_id": "tenant-a"}, headers=auth("admin", None)
    )
    assert response.status_code == 200, response.text
    return float(response.json()["spend"]["tenants"]["tenant-a"]["day"])
