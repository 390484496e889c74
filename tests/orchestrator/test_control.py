"""Pause stops new steps, resume continues, cancel kills the running tool; impossible moves are 409."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from fastapi import FastAPI

from talkative.runs.models import Run
from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import attach_skill, running_agent
from tests.factories.runs import get_run, start_task, started_skills, wait_run
from tests.factories.skills import write_slow_skill
from tests.tools.helpers import run_processes
from tests.waiting import eventually


def _running() -> list[int]:
    """The tool's host processes: this process's descendants but the fork server (the sandbox
    gives the script its own pid 1, and forked runs carry the fork server's command line)."""
    return run_processes(os.getpid())


async def _pid(path: Path) -> int:
    def written() -> str | None:
        return path.read_text() if path.exists() else None  # empty while it is being written

    return int(await eventually(written, what=f"{path} never appeared"))


async def _let_go(app: FastAPI, run_id: str) -> bool:
    """Whether no worker holds the run any more (its lease is released)."""
    async with app.state.sessionmaker() as session:
        run = await session.get(Run, run_id)
    return run is not None and run.lease_owner is None


async def _setup(client: httpx.AsyncClient, auth: Auth, settings: Settings, sleep: float) -> Path:
    await running_agent(client, auth(), "slowpoke")
    workspace = settings.workspaces_dir / "tenant-a/slowpoke"
    write_slow_skill(workspace, "slow-a", "alpha")
    write_slow_skill(workspace, "slow-b", "beta")
    await attach_skill(client, auth(), "slowpoke", "slow-a")
    await attach_skill(client, auth(), "slowpoke", "slow-b")
    (workspace / "inputs/sleep.txt").write_text(str(sleep))
    return workspace


async def test_pause_stops_new_steps_until_resume(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    workspace = await _setup(client, auth, settings, sleep=0.8)
    run_id = (await start_task(client, auth(), "slowpoke", "alpha then beta"))["run_id"]
    await _pid(workspace / "outputs/slow-a.pid")
    paused = await client.post(f"/orchestrator/runs/{run_id}/pause", headers=auth())
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    await wait_run(client, auth(), run_id, lambda r: r["plan"][0]["status"] == "done")
    # The worker lets go of the run once it has decided about the next step: had the pause not
    # held, it would have kept the lease to start slow-b.
    await eventually(lambda: _let_go(app, run_id), what="the worker kept the paused run")
    run = await get_run(client, auth(), run_id)
    assert run["status"] == "paused" and started_skills(run) == ["slow-a"]
    assert (await client.post(f"/orchestrator/runs/{run_id}/pause", headers=auth())).status_code == 409

    resumed = await client.post(f"/orchestrator/runs/{run_id}/resume", headers=auth())
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    done = await wait_run(client, auth(), run_id, lambda r: r["status"] == "completed")
    assert started_skills(done) == ["slow-a", "slow-b"]
    assert (workspace / "outputs/executions.log").read_text() == "slow-a\nslow-b\n"
    names = [s["name"] for s in done["steps"]]
    assert {"RUN_PAUSED", "RUN_RESUMED", "RUN_COMPLETED"} <= set(names)
    assert [s["name"] for s in done["steps"] if s["type"] == "command"] == ["start_task", "pause", "resume"]


async def test_cancel_kills_the_running_tool(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    workspace = await _setup(client, auth, settings, sleep=30)
    run_id = (await start_task(client, auth(), "slowpoke", "alpha then beta"))["run_id"]
    await _pid(workspace / "outputs/slow-a.pid")
    assert _running(), "the tool should be running before the cancel"
    cancelled = await client.post(f"/orchestrator/runs/{run_id}/cancel", headers=auth())
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    await eventually(lambda: not _running(), what="the tool process survived the cancel")
    run = await wait_run(client, auth(), run_id, lambda r: r["plan"][0]["status"] != "running")
    assert run["status"] == "cancelled"
    assert [s["status"] for s in run["plan"]] == ["cancelled", "cancelled"]
    assert started_skills(run) == ["slow-a"] and not (workspace / "outputs/executions.log").exists()
    again = await client.post(f"/orchestrator/runs/{run_id}/resume", headers=auth())
    assert again.status_code == 409
    assert again.json()["code"] == "INVALID_TRANSITION" and "cancelled" in again.json()["error"]
    assert os.path.exists(workspace / "outputs/slow-a.pid")


async def test_control_is_tenant_scoped_and_role_checked(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "plain")
    reply = (
        await client.post("/agents/plain/message", json={"message": "transfer funds"}, headers=auth())
    ).json()
    run_id = reply["run_id"]
    assert (
        await client.post(f"/orchestrator/runs/{run_id}/cancel", headers=auth("viewer"))
    ).status_code == 403
    assert (
        await client.post(f"/orchestrator/runs/{run_id}/cancel", headers=auth(tenant="tenant-b"))
    ).status_code == 404
    assert (await client.post(f"/orchestrator/runs/{run_id}/explode", headers=auth())).status_code == 422
    assert (await client.post(f"/orchestrator/runs/{run_id}/cancel", headers=auth())).json()[
        "status"
    ] == "cancelled"
    approvals = (await client.get("/approvals", headers=auth())).json()["approvals"]
    assert [a["status"] for a in approvals] == ["cancelled"]
