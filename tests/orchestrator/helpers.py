"""Shared helpers for orchestrator tests: agents, custom test skills, polling runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import DEADLINE_S, eventually

Auth = Callable[..., dict[str, str]]
TERMINAL = {"completed", "failed", "cancelled"}

SLOW_SCRIPT = """\
import fcntl, json, os, sys, time
from talkative.skills.report import emit_report
name = sys.argv[1]
alive = open(f"outputs/{name}.alive", "w")  # locked until this process is gone
fcntl.flock(alive, fcntl.LOCK_EX)
with open(f"outputs/{name}.pid", "w") as handle:
    handle.write(str(os.getpid()))
seconds = float(open("inputs/sleep.txt").read()) if os.path.exists("inputs/sleep.txt") else 1.0
time.sleep(seconds)
with open("outputs/executions.log", "a") as log:
    log.write(name + "\\n")
emit_report(name, data={"slept": seconds}, out=f"outputs/{name}.json")
"""


def write_slow_skill(workspace: Path, name: str, trigger: str, *, requires_approval: bool = False) -> None:
    """A test skill that records its pid, sleeps (inputs/sleep.txt seconds) and logs its completion.
    While it runs it holds a lock on outputs/<name>.alive (see `tests.waiting.released`)."""
    folder = workspace / "skills" / name
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    (folder / "scripts" / "slow.py").write_text(SLOW_SCRIPT)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: Sleeps for a while (test skill).\ntriggers: [{trigger}]\n"
        f"command: python skills/{name}/scripts/slow.py {name}\n"
        f"requires_approval: {'true' if requires_approval else 'false'}\n---\nSleeps.\n"
    )


async def running_agent(client: httpx.AsyncClient, auth: Auth, agent_id: str, template: str | None = None,
                        tenant: str = "tenant-a") -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"id": agent_id, "name": agent_id}
    if template:
        body["template"] = template
    created = await client.post("/agents", json=body, headers=auth(tenant=tenant))
    assert created.status_code == 201, created.text
    started = await client.post(f"/agents/{agent_id}/start", headers=auth(tenant=tenant))
    assert started.status_code == 200
    return started.json()  # type: ignore[no-any-return]


async def get_run(client: httpx.AsyncClient, auth: Auth, run_id: str) -> dict[str, Any]:
    response = await client.get(f"/orchestrator/runs/{run_id}", headers=auth())
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def wait_run(client: httpx.AsyncClient, auth: Auth, run_id: str, predicate: Callable[[dict[str, Any]], bool],
                   timeout: float = DEADLINE_S) -> dict[str, Any]:  # fmt: skip
    last: dict[str, Any] = {}

    async def reached() -> dict[str, Any] | None:
        nonlocal last
        last = await get_run(client, auth, run_id)
        return last if predicate(last) else None

    return await eventually(
        reached,
        timeout=timeout,
        what=lambda: f"run never reached the expected state; last: {last['status']} {last['plan']}",
    )


def event_names(run: dict[str, Any]) -> list[str]:
    return [s["name"] for s in run["steps"] if s["type"] == "event"]


def started_skills(run: dict[str, Any]) -> list[str]:
    return [s["payload"]["skill"] for s in run["steps"] if s["name"] == "TOOL_RUN_STARTED"]


async def attach(client: httpx.AsyncClient, auth: Auth, agent_id: str, skill: str,
                 tenant: str = "tenant-a") -> dict[str, Any]:  # fmt: skip
    """Attach (pin) a skill as an admin would: a template, or one already in the workspace."""
    response = await client.post(
        f"/agents/{agent_id}/skills/attach", json={"skillName": skill}, headers=auth(tenant=tenant)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
