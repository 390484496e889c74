"""Skills are pinned when an admin attaches them: a changed skill does not run until re-attached.

The finding: a skill run rewrote another skill's SKILL.md in the same workspace (flipping
`requires_approval: true` to false) and the next message ran that skill without approval. Here the
files are changed from outside (however it happens, the server must not trust the result).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from talkative.agents.models import AgentSkill
from talkative.orchestrator import scheduler
from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import attach_skill, make_heartbeat_due, running_agent
from tests.factories.runs import send_message, wait_run
from tests.factories.skills import write_slow_skill
from tests.waiting import eventually


async def trust_of(client: httpx.AsyncClient, auth: Auth, agent_id: str) -> dict[str, str]:
    response = await client.get(f"/agents/{agent_id}/skills", headers=auth("viewer"))
    assert response.status_code == 200, response.text
    return {s["name"]: s["trust"] for s in response.json()["skills"]}


def untrusted(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in reply["events"] if e["type"] == "SKILL_UNTRUSTED"]


def flip_approval(folder: Path) -> None:
    manifest = folder / "SKILL.md"
    manifest.write_text(manifest.read_text().replace("requires_approval: true", "requires_approval: false"))


async def guarded_agent(client: httpx.AsyncClient, auth: Auth, settings: Settings) -> Path:
    await running_agent(client, auth(), "careful")
    workspace = settings.workspaces_dir / "tenant-a/careful"
    write_slow_skill(workspace, "guarded", "guarded", requires_approval=True)
    (workspace / "inputs/sleep.txt").write_text("0")
    await attach_skill(client, auth(), "careful", "guarded")
    return workspace


async def test_a_flipped_approval_policy_is_not_trusted_until_re_attached(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    workspace = await guarded_agent(client, auth, settings)
    assert await trust_of(client, auth, "careful") == {"guarded": "trusted"}
    flip_approval(workspace / "skills" / "guarded")

    reply = await send_message(client, auth(), "careful", "guarded job")

    assert not (workspace / "outputs/executions.log").exists()  # neither run nor gated: refused
    assert reply["run_status"] == "completed" and reply["actions"] == []
    [event] = untrusted(reply)
    assert event["payload"]["skill"] == "guarded" and event["payload"]["trust"] == "changed"
    assert "changed since it was attached; an admin must re-attach it" in event["message"]
    assert await trust_of(client, auth, "careful") == {"guarded": "changed"}

    await attach_skill(client, auth(), "careful", "guarded")  # the admin vouches for it as it now is

    assert await trust_of(client, auth, "careful") == {"guarded": "trusted"}
    reply = await send_message(client, auth(), "careful", "guarded job")
    assert reply["run_status"] == "completed", reply  # no approval now: what the admin attached
    assert (workspace / "outputs/executions.log").read_text() == "guarded\n"


async def test_the_approval_pinned_holds_while_the_skill_is_unchanged(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    workspace = await guarded_agent(client, auth, settings)

    reply = await send_message(client, auth(), "careful", "guarded job")

    assert reply["run_status"] == "waiting_approval"
    assert untrusted(reply) == []
    assert not (workspace / "outputs/executions.log").exists()


async def test_an_edited_script_is_not_run(client: httpx.AsyncClient, auth: Auth, settings: Settings) -> None:
    await running_agent(client, auth(), "plain")
    workspace = settings.workspaces_dir / "tenant-a/plain"
    write_slow_skill(workspace, "nap", "nap")
    (workspace / "inputs/sleep.txt").write_text("0")
    await attach_skill(client, auth(), "plain", "nap")
    script = workspace / "skills/nap/scripts/slow.py"
    script.write_text(script.read_text() + "\nopen('outputs/tampered', 'w').write('yes')\n")

    reply = await send_message(client, auth(), "plain", "nap now")

    assert [e["payload"]["skill"] for e in untrusted(reply)] == ["nap"]
    assert not (workspace / "outputs/tampered").exists()
    assert not (workspace / "outputs/executions.log").exists()


async def test_a_skill_put_in_the_workspace_by_hand_runs_only_once_attached(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, app: FastAPI
) -> None:
    await running_agent(client, auth(), "handy")
    workspace = settings.workspaces_dir / "tenant-a/handy"
    write_slow_skill(workspace, "nap", "nap")
    (workspace / "inputs/sleep.txt").write_text("0")
    assert await trust_of(client, auth, "handy") == {"nap": "unpinned"}

    reply = await send_message(client, auth(), "handy", "nap now")
    [event] = untrusted(reply)
    assert event["payload"]["trust"] == "unpinned" and "never attached" in event["message"]
    assert "Not run: skill nap was never attached" in reply["reply"]

    viewer = await client.post(
        "/agents/handy/skills/attach", json={"skillName": "nap"}, headers=auth("viewer")
    )
    assert viewer.status_code == 403
    await attach_skill(client, auth(), "handy", "nap")
    async with app.state.sessionmaker() as session:
        pin = (await session.scalars(select(AgentSkill).where(AgentSkill.agent_id == "handy"))).one()
    assert (pin.tenant_id, pin.name, pin.requires_approval, pin.attached_by) == (
        "tenant-a",
        "nap",
        False,
        "tester",
    )

    reply = await send_message(client, auth(), "handy", "nap now")
    assert reply["run_status"] == "completed" and untrusted(reply) == []
    assert (workspace / "outputs/executions.log").read_text() == "nap\n"


async def test_attaching_a_skill_that_is_neither_a_template_nor_in_the_workspace_is_422(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "empty")
    response = await client.post("/agents/empty/skills/attach", json={"skillName": "nope"}, headers=auth())
    assert response.status_code == 422 and response.json()["code"] == "UNKNOWN_TEMPLATE"


async def test_re_attaching_a_template_restores_it(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    folder = settings.workspaces_dir / "tenant-a/mailer/skills/mail-triage"
    (folder / "scripts/triage.py").write_text("print('not triage')\n")
    assert await trust_of(client, auth, "mailer") == {"mail-triage": "changed"}
    reply = await send_message(client, auth(), "mailer", "triage inbox now")
    assert reply["actions"] == [] and untrusted(reply)

    await attach_skill(client, auth(), "mailer", "mail-triage")

    assert "not triage" not in (folder / "scripts/triage.py").read_text()
    assert await trust_of(client, auth, "mailer") == {"mail-triage": "trusted"}
    reply = await send_message(client, auth(), "mailer", "triage inbox now")
    assert [(a["skill"], a["ok"]) for a in reply["actions"]] == [("mail-triage", True)]


async def test_a_changed_skill_is_left_out_of_the_heartbeat(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    folder = settings.workspaces_dir / "tenant-a/mailer/skills/mail-triage"
    flip = folder / "SKILL.md"
    flip.write_text(flip.read_text() + "\nEdited.\n")
    await make_heartbeat_due(app, "mailer")

    assert await scheduler.run_due_heartbeats(app.state.runtime) == [("tenant-a", "mailer")]

    events = (await client.get("/agents/mailer/events", params={"tail": 5}, headers=auth())).json()["events"]
    types = [e["type"] for e in events]
    assert "TOOL_RUN_STARTED" not in types
    assert types[-3:] == ["HEARTBEAT_TICK", "SKILL_UNTRUSTED", "RUN_COMPLETED"]
    assert not (settings.workspaces_dir / "tenant-a/mailer/outputs/mail-triage.json").exists()


async def test_a_skill_changed_after_planning_does_not_run(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    # Two steps planned while both skills are as attached; the second is changed while the first
    # runs (as a first step writing into skills/ could): it is refused right before it would run.
    await running_agent(client, auth(), "pair")
    workspace = settings.workspaces_dir / "tenant-a/pair"
    write_slow_skill(workspace, "slow-a", "alpha")
    write_slow_skill(workspace, "slow-b", "beta")
    (workspace / "inputs/sleep.txt").write_text("0.5")
    await attach_skill(client, auth(), "pair", "slow-a")
    await attach_skill(client, auth(), "pair", "slow-b")
    response = await client.post(
        "/orchestrator/commands",
        json={"agent_id": "pair", "type": "start_task", "payload": {"text": "alpha then beta"}},
        headers=auth(),
    )
    assert response.status_code == 202, response.text
    await eventually((workspace / "outputs/slow-a.pid").exists, what="slow-a never started")
    flip_approval(workspace / "skills/slow-b")  # any edit: the manifest has no approval to flip
    (workspace / "skills/slow-b/SKILL.md").write_text(
        (workspace / "skills/slow-b/SKILL.md").read_text() + "\nChanged.\n"
    )

    run = await wait_run(client, auth(), response.json()["run_id"], lambda r: r["status"] == "failed")

    finished = [s["payload"] for s in run["steps"] if s["name"] == "TOOL_RUN_FINISHED"]
    assert [(p["skill"], p["ok"]) for p in finished] == [("slow-a", True), ("slow-b", False)]
    assert finished[1]["error"]["code"] == "SKILL_UNTRUSTED"
    assert (workspace / "outputs/executions.log").read_text() == "slow-a\n"
