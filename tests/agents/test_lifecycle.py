"""Agent lifecycle: templates and workspaces, start/stop, skills, the message loop, heartbeats, metrics."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.agents.models import Agent
from talkative.db import utcnow
from talkative.main import create_app
from talkative.orchestrator import scheduler
from talkative.settings import Settings
from tests.factories.agents import create_agent, make_heartbeat_due, running_agent
from tests.factories.runs import send_message

Auth = Callable[..., dict[str, str]]
Json = dict[str, Any]
TEMPLATES = ["git-watcher", "mail-triage", "monthly-bookkeeping"]
TRIAGE = (
    "python skills/mail-triage/scripts/triage.py --inbox inputs/inbox.json --out outputs/mail-triage.json"
)


async def _event_types(client: httpx.AsyncClient, auth: Auth, agent_id: str, tail: int = 50) -> list[str]:
    response = await client.get(f"/agents/{agent_id}/events", params={"tail": tail}, headers=auth("viewer"))
    assert response.status_code == 200, response.text
    return [e["type"] for e in response.json()["events"]]


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["error"]


def _action_types(reply: Json) -> list[tuple[str, str | None, bool | None]]:
    return [(a["type"], a["skill"], a["ok"]) for a in reply["actions"]]


async def _next_heartbeat(app: FastAPI, agent_id: str) -> datetime | None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with maker() as session:
        agent = await session.get(Agent, ("tenant-a", agent_id))
        assert agent is not None
        return agent.next_heartbeat_at


def _metric(text: str, name: str) -> float:
    """The sum of every sample of a counter, across its labels."""
    return sum(
        s.value for family in text_string_to_metric_families(text) for s in family.samples if s.name == name
    )


async def test_template_creates_workspace_and_events(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    created = await create_agent(client, auth(), "mailer", template="mail-triage", heartbeatMinutes=15)
    assert (created["workspace"], created["status"]) == ("workspaces/tenant-a/mailer", "stopped")
    root = settings.workspaces_dir / "tenant-a/mailer"
    assert json.loads((root / "config.json").read_text())["heartbeatMinutes"] == 15
    runs = [line for line in (root / "HEARTBEAT.md").read_text().splitlines() if line.startswith("RUN ")]
    assert runs == [f"RUN {TRIAGE}"]
    assert (root / "skills/mail-triage/SKILL.md").read_text().startswith("---\nname: mail-triage\n")
    inbox = json.loads((root / "inputs/inbox.json").read_text())
    assert isinstance(inbox, list) and len(inbox) > 0 and {"id", "from", "subject"} <= set(inbox[0])
    assert (root / "outputs").is_dir() and list((root / "outputs").iterdir()) == []
    response = await client.get("/agents/mailer/events", params={"tail": 10}, headers=auth("viewer"))
    trail = response.json()["events"]
    assert [e["type"] for e in trail] == ["AGENT_CREATED", "SKILL_ATTACHED"]
    attached = {"skillName": "mail-triage", "seeded": ["inputs/inbox.json"], "heartbeatAdded": True}
    assert trail[1]["payload"] == attached
    assert all(e["agent_id"] == "mailer" and e["tenant_id"] == "tenant-a" for e in trail)


async def test_unknown_template_is_422_and_creates_nothing(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    body = {"id": "ghost", "name": "Ghost", "template": "tax-evasion"}
    _error(await client.post("/agents", json=body, headers=auth()), 422, "UNKNOWN_TEMPLATE")
    _error(await client.get("/agents/ghost", headers=auth()), 404, "AGENT_NOT_FOUND")
    assert (await client.get("/agents", headers=auth())).json()["agents"] == []
    assert not (settings.workspaces_dir / "tenant-a/ghost").exists()


async def test_start_stop_idempotent_and_persisted(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "worker")
    for _ in range(2):
        assert (await client.post("/agents/worker/start", headers=auth())).json()["status"] == "running"
    assert (await client.get("/agents/worker", headers=auth("viewer"))).json()["status"] == "running"
    for _ in range(2):
        assert (await client.post("/agents/worker/stop", headers=auth())).json()["status"] == "stopped"
    assert (await client.get("/agents/worker", headers=auth("viewer"))).json()["status"] == "stopped"
    assert await _event_types(client, auth, "worker") == ["AGENT_CREATED", "AGENT_STARTED", "AGENT_STOPPED"]
    _error(await client.post("/agents/worker/start", headers=auth("viewer")), 403, "ROLE_FORBIDDEN")


async def test_skill_catalogue_lists_templates(client: httpx.AsyncClient, auth: Auth) -> None:
    skills = (await client.get("/skills", headers=auth("viewer"))).json()["skills"]
    assert sorted(s["name"] for s in skills) == TEMPLATES
    mail = next(s for s in skills if s["name"] == "mail-triage")
    assert mail["heartbeat"] is True and "inbox" in mail["triggers"]


async def test_attach_skill(client: httpx.AsyncClient, auth: Auth, settings: Settings) -> None:
    await create_agent(client, auth(), "books", template="mail-triage")
    attached = await client.post(
        "/agents/books/skills/attach", json={"skillName": "monthly-bookkeeping"}, headers=auth()
    )
    assert attached.status_code == 200, attached.text
    assert attached.json() == {"skillName": "monthly-bookkeeping", "seeded": ["inputs/transactions.csv"],
                               "heartbeatAdded": False}  # fmt: skip
    csv = (settings.workspaces_dir / "tenant-a/books/inputs/transactions.csv").read_text()
    assert csv.splitlines()[0].count(",") >= 2 and len(csv.splitlines()) > 1
    listed = (await client.get("/agents/books/skills", headers=auth("viewer"))).json()["skills"]
    assert [s["name"] for s in listed] == ["mail-triage", "monthly-bookkeeping"]
    assert (await _event_types(client, auth, "books"))[-1] == "SKILL_ATTACHED"
    inbox = settings.workspaces_dir / "tenant-a/books/inputs/inbox.json"
    inbox.write_text("[]")
    again = await client.post(
        "/agents/books/skills/attach", json={"skillName": "mail-triage"}, headers=auth()
    )
    assert (again.json()["seeded"], again.json()["heartbeatAdded"]) == ([], False)
    assert inbox.read_text() == "[]", "re-attaching must keep the user's inputs"


async def test_attach_skill_refusals(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "books")
    url = "/agents/books/skills/attach"
    for name in ("no-such-skill", "../mail-triage"):
        _error(await client.post(url, json={"skillName": name}, headers=auth()), 422, "UNKNOWN_TEMPLATE")
    ok = {"skillName": "git-watcher"}
    _error(await client.post(url, json=ok, headers=auth("viewer")), 403, "ROLE_FORBIDDEN")
    _error(await client.post(url, json=ok, headers=auth("admin", "tenant-b")), 404, "AGENT_NOT_FOUND")
    _error(
        await client.get("/agents/books/skills", headers=auth("admin", "tenant-b")), 404, "AGENT_NOT_FOUND"
    )
    assert (await client.get("/agents/books/skills", headers=auth())).json()["skills"] == []


async def test_message_to_stopped_agent_is_409(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "sleepy")
    response = await client.post("/agents/sleepy/message", json={"message": "hello"}, headers=auth())
    _error(response, 409, "AGENT_NOT_RUNNING")
    assert await _event_types(client, auth, "sleepy") == ["AGENT_CREATED"]


async def test_message_builds_the_workflow_without_duplicates(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "payer", template="mail-triage")
    reply = await send_message(client, auth(), "payer", "collect invoices then pay supplier")
    assert (reply["agentId"], reply["run_status"], reply["actions"]) == ("payer", "completed", [])
    ops = [op["op"] for op in reply["workflowPatch"]["operations"]]
    assert ops == ["add_node", "add_node", "add_edge"] and reply["workflowPatch"]["version"] == 1
    types = [e["type"] for e in reply["events"]]
    assert types[:2] == ["MESSAGE_RECEIVED", "INTERPRETATION_RESULT"]
    assert "WORKFLOW_PATCH_APPLIED" in types and "TOOL_RUN_STARTED" not in types
    again = await send_message(client, auth(), "payer", "collect invoices then pay supplier")
    # Nothing new: no empty version, and the reply says the workflow is unchanged.
    assert again["workflowPatch"]["operations"] == [] and again["workflowPatch"]["version"] == 1
    assert again["workflowPatch"]["unchanged"] is True
    workflow = (await client.get("/agents/payer/workflow", headers=auth("viewer"))).json()
    assert [n["name"] for n in workflow["nodes"]] == ["Collect invoices", "Pay supplier"]
    assert len(workflow["edges"]) == 1 and workflow["version"] == 1
    assert [v["version"] for v in workflow["versions"]] == [1]


async def test_triage_message_runs_the_skill(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = await send_message(client, auth(), "mailer", "triage inbox now")
    assert reply["run_status"] == "completed"
    assert _action_types(reply) == [("tool.executed", "mail-triage", True)]
    assert "outputs/mail-triage.json" in reply["actions"][0]["detail"]["artifacts"]
    report = json.loads((settings.workspaces_dir / "tenant-a/mailer/outputs/mail-triage.json").read_text())
    assert (report["ok"], report["skillName"]) == (True, "mail-triage")
    tail = await _event_types(client, auth, "mailer", tail=4)
    assert tail == ["TOOL_RUN_STARTED", "TOOL_RUN_FINISHED", "METRIC_RECORDED", "RUN_COMPLETED"]


async def test_heartbeat_now(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = await send_message(client, auth(), "mailer", "run heartbeat now")
    assert _action_types(reply) == [
        ("tool.executed", "mail-triage", True),
        ("heartbeat.executed", None, True),
    ]
    tick = next(e for e in reply["events"] if e["type"] == "HEARTBEAT_TICK")
    assert tick["payload"]["commands"] == [TRIAGE]
    assert "HEARTBEAT_TICK" in await _event_types(client, auth, "mailer")
    assert (await client.get("/agents/mailer", headers=auth())).json()["lastHeartbeatAt"] is not None


async def test_heartbeat_request_runs_each_command_once(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = await send_message(client, auth(), "mailer", "triage inbox then run heartbeat now")
    started = [e["payload"]["command"] for e in reply["events"] if e["type"] == "TOOL_RUN_STARTED"]
    assert len(started) == 1, (
        "BUG: flows.handle_message runs a command twice when a skill trigger and the heartbeat both "
        f"ask for it (ToolCall equality includes `reason`, so the de-duplication never matches): {started}"
    )
    assert _action_types(reply) == [
        ("tool.executed", "mail-triage", True),
        ("heartbeat.executed", None, True),
    ]


async def test_routed_message_picks_agent_by_skills(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "books", template="monthly-bookkeeping")
    await running_agent(client, auth(), "mailer", template="mail-triage")
    for text, expected, skill in (
        ("triage my inbox", "mailer", "mail-triage"),
        ("summarise monthly transactions", "books", "monthly-bookkeeping"),
    ):
        response = await client.post("/agents/message", json={"message": text}, headers=auth())
        assert response.status_code == 200, response.text
        assert response.json()["agentId"] == expected, text
        assert _action_types(response.json()) == [("tool.executed", skill, True)]


async def test_routed_message_without_running_agent_is_409(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "mailer", template="mail-triage")
    response = await client.post("/agents/message", json={"message": "triage my inbox"}, headers=auth())
    _error(response, 409, "NO_RUNNING_AGENT")


async def test_scheduler_runs_due_heartbeats_once(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    await running_agent(client, auth(), "idle", template="mail-triage")
    await make_heartbeat_due(app, "mailer")
    assert await scheduler.run_due_heartbeats(app.state.runtime) == [("tenant-a", "mailer")]
    types = await _event_types(client, auth, "mailer", tail=5)
    assert types == [
        "HEARTBEAT_TICK",
        "TOOL_RUN_STARTED",
        "TOOL_RUN_FINISHED",
        "METRIC_RECORDED",
        "RUN_COMPLETED",
    ]
    next_at = await _next_heartbeat(app, "mailer")
    assert next_at is not None and next_at > utcnow() + timedelta(minutes=29)
    assert await scheduler.run_due_heartbeats(app.state.runtime) == []
    assert "HEARTBEAT_TICK" not in await _event_types(client, auth, "idle")


async def test_scheduler_skips_stopped_agents(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    await client.post("/agents/mailer/stop", headers=auth())
    assert await _next_heartbeat(app, "mailer") is None
    await make_heartbeat_due(app, "mailer")
    assert await scheduler.run_due_heartbeats(app.state.runtime) == []
    assert "HEARTBEAT_TICK" not in await _event_types(client, auth, "mailer")


async def test_running_agent_survives_restart(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    scheduled = await _next_heartbeat(app, "mailer")
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
            assert (await other.get("/agents/mailer", headers=auth())).json()["status"] == "running"
        assert await _next_heartbeat(second, "mailer") == scheduled and scheduled is not None
        await make_heartbeat_due(second, "mailer")
        assert await scheduler.run_due_heartbeats(second.state.runtime) == [("tenant-a", "mailer")]


async def test_prometheus_counters_move(client: httpx.AsyncClient, auth: Auth, settings: Settings) -> None:
    names = ("talkative_agent_runs_total", "talkative_tool_calls_total", "talkative_tool_failures_total")

    async def snapshot() -> list[float]:
        text = (await client.get("/metrics")).text
        return [_metric(text, name) for name in names]

    await running_agent(client, auth(), "mailer", template="mail-triage")
    before = await snapshot()
    await send_message(client, auth(), "mailer", "triage inbox now")
    after_ok = await snapshot()
    assert [b - a for a, b in zip(before, after_ok, strict=True)] == [1, 1, 0]
    (settings.workspaces_dir / "tenant-a/mailer/inputs/inbox.json").write_text("{not json")
    failed = await send_message(client, auth(), "mailer", "triage inbox now")
    assert failed["run_status"] == "failed"
    assert _action_types(failed) == [("tool.failed", "mail-triage", False)]
    after_fail = await snapshot()
    assert [b - a for a, b in zip(after_ok, after_fail, strict=True)] == [1, 1, 1]


async def test_delete_agent(client: httpx.AsyncClient, auth: Auth, settings: Settings) -> None:
    await running_agent(client, auth(), "doomed", template="mail-triage")
    workspace = settings.workspaces_dir / "tenant-a/doomed"
    assert (await client.delete("/agents/doomed", headers=auth())).status_code == 409  # still running
    await client.post("/agents/doomed/stop", headers=auth())
    assert (await client.delete("/agents/doomed", headers=auth("viewer"))).status_code == 403
    assert (await client.delete("/agents/doomed", headers=auth(tenant="tenant-b"))).status_code == 404
    assert workspace.is_dir()
    assert (await client.delete("/agents/doomed", headers=auth())).status_code == 204
    assert (await client.get("/agents/doomed", headers=auth())).status_code == 404
    assert not workspace.exists()
    again = await client.post("/agents", json={"id": "doomed", "name": "Reborn"}, headers=auth())
    assert again.status_code == 201
    workflow = (await client.get("/agents/doomed/workflow", headers=auth())).json()
    assert workflow["version"] == 0 and workflow["nodes"] == []


async def test_delete_refuses_an_agent_with_an_unfinished_run(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "busy")
    waiting = await client.post("/agents/busy/message", json={"message": "wire the money"}, headers=auth())
    assert waiting.json()["run_status"] == "waiting_approval"
    await client.post("/agents/busy/stop", headers=auth())
    refused = await client.delete("/agents/busy", headers=auth())
    assert refused.status_code == 409 and refused.json()["code"] == "AGENT_BUSY"
