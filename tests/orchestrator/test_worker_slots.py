"""A run that found every worker slot taken starts as soon as one frees up, not at the next poll."""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI

from talkative.orchestrator.models import Run
from talkative.settings import Settings
from tests.orchestrator.helpers import Auth, event_names, running_agent, wait_run, write_slow_skill

POLL_S = 30.0  # far longer than the test: only the freed slot can start the second run


SETTINGS = {
    "TALKATIVE_WORKER_CONCURRENCY": 1,
    "TALKATIVE_WORKER_POLL_S": POLL_S,
    "TALKATIVE_MESSAGE_WAIT_S": 0,
}


async def test_a_run_waiting_for_a_slot_starts_when_one_frees(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    for agent in ("first", "second"):
        await running_agent(client, auth, agent)
        workspace = settings.workspaces_dir / agent
        write_slow_skill(workspace, "nap", "nap")
        (workspace / "inputs").mkdir(exist_ok=True)
        (workspace / "inputs/sleep.txt").write_text("0.3")

    first = (await client.post("/agents/first/message", json={"message": "nap"}, headers=auth())).json()
    second = (await client.post("/agents/second/message", json={"message": "nap"}, headers=auth())).json()
    started = time.monotonic()
    done = await wait_run(client, auth, second["run_id"], lambda r: r["status"] == "completed", timeout=10)
    assert time.monotonic() - started < POLL_S / 3
    assert done["status"] == "completed"
    await wait_run(client, auth, first["run_id"], lambda r: r["status"] == "completed")


async def test_a_finished_run_holds_no_lease(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    """The last step's own transaction lets go of the lease (the worker adds none of its own)."""
    await running_agent(client, auth, "leaser")
    workspace = settings.workspaces_dir / "leaser"
    write_slow_skill(workspace, "nap", "nap")
    (workspace / "inputs").mkdir(exist_ok=True)
    (workspace / "inputs/sleep.txt").write_text("0")
    sent = (await client.post("/agents/leaser/message", json={"message": "nap"}, headers=auth())).json()
    await wait_run(client, auth, sent["run_id"], lambda r: r["status"] == "completed")
    async with app.state.sessionmaker() as session:
        run = await session.get(Run, sent["run_id"])
    assert run is not None and (run.lease_owner, run.lease_until) == (None, None)


async def test_a_run_stopped_at_shutdown_is_freed_for_a_takeover(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await running_agent(client, auth, "sleeper")
    workspace = settings.workspaces_dir / "sleeper"
    write_slow_skill(workspace, "nap", "nap")
    (workspace / "inputs").mkdir(exist_ok=True)
    (workspace / "inputs/sleep.txt").write_text("30")
    sent = (await client.post("/agents/sleeper/message", json={"message": "nap"}, headers=auth())).json()
    await wait_run(client, auth, sent["run_id"], lambda r: "TOOL_RUN_STARTED" in event_names(r))
    await app.state.runtime.worker.stop()  # what shutdown does with runs in flight
    async with app.state.sessionmaker() as session:
        run = await session.get(Run, sent["run_id"])
    assert run is not None and run.status == "running" and run.lease_owner is None
