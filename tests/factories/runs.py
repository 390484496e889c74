"""Runs: opened by a message or a command, read, and waited for."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.factories import Headers, Json
from tests.waiting import DEADLINE_S, eventually

TERMINAL = frozenset({"completed", "rejected", "failed", "cancelled"})
SENSITIVE = "transfer funds to supplier"  # planned with a human approval before it runs


def finished(run: Json) -> bool:
    return run["status"] in TERMINAL


async def send_message(client: httpx.AsyncClient, headers: Headers, agent_id: str, text: str) -> Json:
    """`POST /agents/{id}/message`: the reply, with its run's id and status."""
    response = await client.post(f"/agents/{agent_id}/message", json={"message": text}, headers=headers)
    assert response.status_code == 200, response.text
    reply: Json = response.json()
    return reply


async def waiting_run(client: httpx.AsyncClient, headers: Headers, agent_id: str) -> str:
    """The id of a run of the (running) agent that waits for a human's approval."""
    reply = await send_message(client, headers, agent_id, SENSITIVE)
    assert reply["run_status"] == "waiting_approval", reply
    run_id: str = reply["run_id"]
    return run_id


async def start_task(client: httpx.AsyncClient, headers: Headers, agent_id: str, text: str) -> Json:
    """A `start_task` command, accepted: its answer (`run_id`, `command_id`, ...)."""
    response = await client.post(
        "/orchestrator/commands",
        json={"agent_id": agent_id, "type": "start_task", "payload": {"text": text}},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    accepted: Json = response.json()
    assert accepted["run_id"] and accepted["type"] == "start_task", accepted
    return accepted


async def get_run(client: httpx.AsyncClient, headers: Headers, run_id: str) -> Json:
    response = await client.get(f"/orchestrator/runs/{run_id}", headers=headers)
    assert response.status_code == 200, response.text
    run: Json = response.json()
    return run


async def wait_run(
    client: httpx.AsyncClient,
    headers: Headers,
    run_id: str,
    predicate: Callable[[Json], bool],
    timeout: float = DEADLINE_S,
) -> Json:
    """The run, once `predicate` holds for it."""
    last: Json = {}

    async def reached() -> Json | None:
        nonlocal last
        last = await get_run(client, headers, run_id)
        return last if predicate(last) else None

    return await eventually(
        reached,
        timeout=timeout,
        what=lambda: f"run {run_id} never reached the expected state; last: {last['status']} {last['plan']}",
    )


def event_names(run: Json) -> list[str]:
    return [s["name"] for s in run["steps"] if s["type"] == "event"]


def started_skills(run: Json) -> list[str]:
    return [s["payload"]["skill"] for s in run["steps"] if s["name"] == "TOOL_RUN_STARTED"]
