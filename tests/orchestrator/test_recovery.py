"""Runs a dead worker left behind: continued from the first step not completed, or failed with a reason."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from talkative.db import utcnow
from talkative.runs.models import Run, RunStep
from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import attach_skill, running_agent
from tests.factories.runs import wait_run
from tests.factories.skills import write_slow_skill


async def _orphaned_run(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings, attempts: int
) -> str:
    """A two-step run as a crashed worker leaves it: step 0 done, step 1 `running`, lease expired."""
    await running_agent(client, auth(), "crashy")
    workspace = settings.workspaces_dir / "tenant-a/crashy"
    write_slow_skill(workspace, "slow-a", "alpha")
    write_slow_skill(workspace, "slow-b", "beta")
    await attach_skill(client, auth(), "crashy", "slow-a")
    await attach_skill(client, auth(), "crashy", "slow-b")
    (workspace / "inputs/sleep.txt").write_text("0")
    reply = (
        await client.post("/agents/crashy/message", json={"message": "alpha then beta"}, headers=auth())
    ).json()
    run_id = str(reply["run_id"])
    assert reply["run_status"] == "completed"
    (workspace / "outputs/executions.log").write_text("")
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(
                status="running",
                subagent_state="running",
                lease_owner="dead-worker",
                lease_until=utcnow() - timedelta(seconds=1),
                finished_at=None,
                reply=None,
            )
        )
        await session.execute(
            update(RunStep)
            .where(RunStep.run_id == run_id, RunStep.idx == 1)
            .values(status="running", attempts=attempts)
        )
    app.state.runtime.worker.wake()
    return run_id


async def test_takeover_continues_from_the_first_step_not_completed(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    run_id = await _orphaned_run(app, client, auth, settings, attempts=1)
    run = await wait_run(client, auth(), run_id, lambda r: r["status"] == "completed")
    assert [(s["status"], s["attempts"]) for s in run["plan"]] == [("done", 1), ("done", 2)]
    assert (settings.workspaces_dir / "tenant-a/crashy/outputs/executions.log").read_text() == "slow-b\n"


async def test_a_step_interrupted_too_often_fails_the_run_with_a_reason(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    run_id = await _orphaned_run(app, client, auth, settings, attempts=3)
    run = await wait_run(client, auth(), run_id, lambda r: r["status"] == "failed")
    assert "interrupted" in (run["last_error"] or "")
    assert [s["status"] for s in run["plan"]] == ["done", "failed"]
    assert (settings.workspaces_dir / "tenant-a/crashy/outputs/executions.log").read_text() == ""
