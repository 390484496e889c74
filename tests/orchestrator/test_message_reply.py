"""What a message's reply says besides what ran (issue 17): tasks no skill matched, tasks dropped
over the limit, a heartbeat with nothing to run, a workflow left unchanged, a skill's result in words."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from talkative.conversation.schemas import MAX_TASKS
from tests.factories import Auth
from tests.factories.agents import running_agent


async def _say(client: httpx.AsyncClient, auth: Auth, agent: str, text: str) -> Any:
    reply = await client.post(f"/agents/{agent}/message", json={"message": text}, headers=auth())
    assert reply.status_code == 200, reply.text
    return reply.json()


def _codes(reply: Any) -> list[str]:
    return [n["code"] for n in reply["notices"]]


async def test_tasks_no_skill_matched_are_named(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "books", template="mail-triage")
    reply = await _say(client, auth, "books", "collect invoices then pay supplier")
    assert reply["unmatched_tasks"] == ["Collect invoices", "Pay supplier"]
    assert _codes(reply) == ["TASKS_UNMATCHED"]
    assert reply["notices"][0]["items"] == ["Collect invoices", "Pay supplier"]
    assert "No skill matched 2 tasks: 'Collect invoices', 'Pay supplier'." in reply["reply"]
    understood = next(e for e in reply["events"] if e["type"] == "INTERPRETATION_RESULT")
    assert understood["payload"]["unmatched_tasks"] == ["Collect invoices", "Pay supplier"]


async def test_tasks_over_the_limit_are_counted_and_named(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "busy")
    reply = await _say(client, auth, "busy", ", ".join(f"chore {i}" for i in range(1, 41)))
    assert reply["dropped_tasks"] == [f"Chore {i}" for i in range(MAX_TASKS + 1, 41)]
    dropped = next(n for n in reply["notices"] if n["code"] == "TASKS_DROPPED")
    assert dropped["count"] == 20
    assert "20 more tasks dropped over the limit of 20 per message" in reply["reply"]
    assert "'Chore 40'" in reply["reply"]


async def test_heartbeat_without_lines_says_so_and_adds_no_node(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "quiet")
    reply = await _say(client, auth, "quiet", "run heartbeat now")
    assert _codes(reply) == ["HEARTBEAT_EMPTY", "WORKFLOW_UNCHANGED"]
    assert "No heartbeat ran: this agent's HEARTBEAT.md has no RUN lines." in reply["reply"]
    assert reply["unmatched_tasks"] == []  # a meta-request is no business task
    workflow = (await client.get("/agents/quiet/workflow", headers=auth())).json()
    assert workflow["version"] == 0 and workflow["nodes"] == []


async def test_a_repeated_message_leaves_the_workflow_unchanged(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "again")
    first = await _say(client, auth, "again", "check mail, run heartbeat now, pay bob")
    assert first["workflowPatch"]["version"] == 1 and not first["workflowPatch"]["unchanged"]
    second = await _say(client, auth, "again", "check mail, run heartbeat now, pay bob")
    assert second["workflowPatch"]["unchanged"] and second["workflowPatch"]["version"] == 1
    assert "WORKFLOW_UNCHANGED" in _codes(second)
    assert "Workflow unchanged (still v1)." in second["reply"]
    types = [e["type"] for e in second["events"]]
    assert "WORKFLOW_PATCH_PROPOSED" in types and "WORKFLOW_PATCH_APPLIED" not in types
    workflow = (await client.get("/agents/again/workflow", headers=auth())).json()
    assert workflow["version"] == 1 and len(workflow["versions"]) == 1
    assert [n["id"] for n in workflow["nodes"]] == ["check-mail", "pay-bob"]
    assert [(e["source"], e["target"]) for e in workflow["edges"]] == [("check-mail", "pay-bob")]


async def test_a_finished_skill_is_summarised_in_words(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = await _say(client, auth, "mailer", "triage inbox now")
    assert reply["run_status"] == "completed"
    assert "mail-triage finished: " in reply["reply"] and " emails" in reply["reply"]
    assert reply["unmatched_tasks"] == [] and reply["notices"] == []
