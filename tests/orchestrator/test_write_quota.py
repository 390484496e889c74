"""The write quota through the server: a skill a tenant triggers by message or heartbeat cannot fill
the disk, and the workspace ends within its quota with the earlier outputs kept."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from talkative.orchestrator import scheduler
from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import attach_skill, make_heartbeat_due, running_agent
from tests.factories.runs import wait_run

KiB = 1024
WORKSPACE_QUOTA = 2048 * KiB
SETTINGS = {
    "TALKATIVE_TOOL_WRITE_QUOTA_BYTES": 512 * KiB,
    "TALKATIVE_WORKSPACE_QUOTA_BYTES": WORKSPACE_QUOTA,
}
FLOOD = """\
import json, os, sys
os.makedirs("outputs/flood", exist_ok=True)
chunk = b"x" * 65536
for index in range(int(sys.argv[1])):
    with open(f"outputs/flood/{index:06d}.bin", "wb") as handle:
        handle.write(chunk)
print(json.dumps({"ok": True}))
"""
COMMAND = "python skills/flood/scripts/flood.py 1000"


def write_flood_skill(workspace: Path) -> None:
    folder = workspace / "skills" / "flood"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "flood.py").write_text(FLOOD)
    (folder / "SKILL.md").write_text(
        "---\nname: flood\ndescription: Writes far too much (test skill).\ntriggers: [flood]\n"
        f"command: {COMMAND}\n---\nFloods.\n"
    )


def usage(workspace: Path) -> int:
    return sum(
        (Path(folder) / name).lstat().st_size for folder, _, files in os.walk(workspace) for name in files
    )


async def flooded_agent(client: httpx.AsyncClient, auth: Auth, settings: Settings, agent_id: str) -> Path:
    await running_agent(client, auth(), agent_id)
    workspace = settings.workspaces_dir / "tenant-a" / agent_id
    write_flood_skill(workspace)
    await attach_skill(client, auth(), agent_id, "flood")
    (workspace / "outputs" / "earlier.json").write_text('{"kept": true}')
    return workspace


def tool_result(run: dict[str, Any]) -> dict[str, Any]:
    finished = [s for s in run["steps"] if s["name"] == "TOOL_RUN_FINISHED"]
    assert len(finished) == 1, run["steps"]
    payload: dict[str, Any] = finished[0]["payload"]
    return payload


async def test_a_message_that_floods_the_workspace_is_stopped(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    workspace = await flooded_agent(client, auth, settings, "flooder")

    reply = await client.post("/agents/flooder/message", json={"message": "flood it"}, headers=auth())

    assert reply.status_code == 200, reply.text
    run = await wait_run(client, auth(), reply.json()["run_id"], lambda r: r["status"] == "failed")
    result = tool_result(run)
    assert result["error"]["code"] == "WRITE_QUOTA", result["error"]
    assert result["removed"]
    assert usage(workspace / "outputs" / "flood") <= 512 * KiB
    assert (workspace / "outputs" / "earlier.json").read_text() == '{"kept": true}'


async def test_heartbeats_cannot_add_up_past_the_workspace_quota(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    workspace = await flooded_agent(client, auth, settings, "beater")
    # Each heartbeat writes its allowance under a new name: the workspace's quota ends it.
    (workspace / "HEARTBEAT.md").write_text(f"# Heartbeat\n\nRUN {COMMAND}\n")
    codes, refused = [], []
    for beat in range(6):
        await make_heartbeat_due(app, "beater")
        assert await scheduler.run_due_heartbeats(app.state.runtime) == [("tenant-a", "beater")]
        runs = (await client.get("/orchestrator/runs", params={"agent_id": "beater"}, headers=auth())).json()
        run = await wait_run(client, auth(), runs["runs"][-1]["run_id"], lambda r: r["status"] == "failed")
        codes.append(tool_result(run)["error"]["code"])
        assert usage(workspace) <= WORKSPACE_QUOTA
        flood = workspace / "outputs" / "flood"
        if flood.exists():  # once the workspace is full, a heartbeat writes nothing at all
            flood.rename(workspace / "outputs" / f"beat-{beat}")
        else:
            refused.append(beat)
    assert set(codes) == {"WRITE_QUOTA"}
    assert refused and refused[-1] == 5
    assert (workspace / "outputs" / "earlier.json").read_text() == '{"kept": true}'
    assert (workspace / "outputs" / "beat-0").is_dir()  # the first heartbeat's output is kept
