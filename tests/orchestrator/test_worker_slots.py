"""A run that found every worker slot taken starts as soon as one frees up, not at the next poll."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from talkative.runs.models import Run
from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import attach_skill, running_agent
from tests.factories.runs import event_names, send_message, wait_run
from tests.factories.skills import write_slow_skill

POLL_S = 60.0  # the longest allowed: only the freed slot can start the second run in time


SETTINGS = {
    "TALKATIVE_WORKER_CONCURRENCY": 1,
    "TALKATIVE_WORKER_POLL_S": POLL_S,
    "TALKATIVE_MESSAGE_WAIT_S": 0,
}


async def _nap_agent(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, agent: str, *, seconds: float
) -> None:
    """A running agent whose one skill, `nap`, sleeps `seconds`."""
    await running_agent(client, auth(), agent)
    workspace = settings.workspaces_dir / "tenant-a" / agent
    write_slow_skill(workspace, "nap", "nap")
    await attach_skill(client, auth(), agent, "nap")
    (workspace / "inputs").mkdir(exist_ok=True)
    (workspace / "inputs/sleep.txt").write_text(str(seconds))


async def _nap(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, agent: str, *, seconds: float
) -> dict[str, Any]:
    await _nap_agent(client, auth, settings, agent, seconds=seconds)
    return await send_message(client, auth(), agent, "nap")


async def test_a_run_waiting_for_a_slot_starts_when_one_frees(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    for agent in ("first", "second"):
        await _nap_agent(client, auth, settings, agent, seconds=0.3)
    first = await send_message(client, auth(), "first", "nap")
    second = await send_message(client, auth(), "second", "nap")
    # Well before the worker's next poll: only the slot the first run frees can have started it.
    done = await wait_run(
        client, auth(), second["run_id"], lambda r: r["status"] == "completed", timeout=POLL_S / 2
    )
    assert done["status"] == "completed"
    await wait_run(client, auth(), first["run_id"], lambda r: r["status"] == "completed")


async def test_a_finished_run_holds_no_lease(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    """The last step's own transaction lets go of the lease (the worker adds none of its own)."""
    sent = await _nap(client, auth, settings, "leaser", seconds=0)
    await wait_run(client, auth(), sent["run_id"], lambda r: r["status"] == "completed")
    async with app.state.sessionmaker() as session:
        run = await session.get(Run, sent["run_id"])
    assert run is not None and (run.lease_owner, run.lease_until) == (None, None)


async def test_a_run_stopped_at_shutdown_is_freed_for_a_takeover(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    sent = await _nap(client, auth, settings, "sleeper", seconds=30)
    await wait_run(client, auth(), sent["run_id"], lambda r: "TOOL_RUN_STARTED" in event_names(r))
    await app.state.runtime.worker.stop()  # what shutdown does with runs in flight
    async with app.state.sessionmaker() as session:
        run = await session.get(Run, sent["run_id"])
    assert run is not None and run.status == "running" and run.lease_owner is None
