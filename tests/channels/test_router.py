"""Channels: client messages processed by agents through the orchestrator, and the operator audit trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.factories.agents import create_agent, running_agent
from tests.waiting import eventually

Auth = Callable[..., dict[str, str]]
Json = dict[str, Any]
MESSAGES = "/channels/client/messages"
ACTIONS = "/channels/internal/actions"
TERMINAL = {"completed", "rejected", "failed", "cancelled"}


async def _send(
    client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, client_id: str, text: str, **extra: Any
) -> httpx.Response:
    body = {"agent_id": agent_id, "client_id": client_id, "text": text, **extra}
    return await client.post(MESSAGES, json=body, headers=headers)


async def _messages(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Json]:
    response = await client.get(MESSAGES, params=params, headers=headers)
    assert response.status_code == 200, response.text
    messages: list[Json] = response.json()["messages"]
    return messages


async def _actions(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Json]:
    response = await client.get(ACTIONS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    actions: list[Json] = response.json()["actions"]
    return actions


async def _act(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(ACTIONS, json=body, headers=headers)


async def _until_answered(client: httpx.AsyncClient, auth: Auth, message_id: str) -> Json:
    last: Json = {}

    async def answered() -> Json | None:
        nonlocal last
        found = [m for m in await _messages(client, auth("viewer")) if m["id"] == message_id]
        assert len(found) == 1, f"message {message_id} is listed {len(found)} times"
        last = found[0]
        return last if last["run_status"] in TERMINAL else None

    return await eventually(answered, what=lambda: f"message {message_id} still {last['run_status']}")


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["error"], response.text


async def test_client_message_is_processed_by_a_run(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    response = await _send(client, auth(), "mailer", "web-42", "triage inbox now")
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["run_id"] and accepted["reply"] is None
    assert (accepted["agent_id"], accepted["client_id"], accepted["tenant_id"]) == (
        "mailer",
        "web-42",
        "tenant-a",
    )
    assert accepted["run_status"] == "running", "a skill run is left to the worker"
    answered = await _until_answered(client, auth, accepted["id"])
    assert (answered["run_id"], answered["run_status"]) == (accepted["run_id"], "completed")
    assert answered["text"] == "triage inbox now"
    assert answered["reply"] and "mail-triage" in answered["reply"], answered
    run = (await client.get(f"/orchestrator/runs/{accepted['run_id']}", headers=auth())).json()
    assert (run["kind"], run["agent_id"], run["reply"]) == ("channel", "mailer", answered["reply"])
    assert [s["kind"] for s in run["plan"]] == ["tool"] and run["plan"][0]["status"] == "done"


async def test_client_messages_filters(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "one")
    await running_agent(client, auth(), "two")
    sent = [
        (await _send(client, auth(), agent, who, f"note {i} then file it")).json()
        for i, (agent, who) in enumerate(
            [("one", "alice"), ("two", "alice"), ("one", "bob"), ("one", "alice")]
        )
    ]
    everything = await _messages(client, auth("viewer"))
    assert [m["id"] for m in everything] == [m["id"] for m in sent], "newest last"
    assert all(m["run_status"] == "completed" and m["reply"] for m in everything)
    by_agent = await _messages(client, auth(), agent_id="one")
    assert [m["id"] for m in by_agent] == [sent[0]["id"], sent[2]["id"], sent[3]["id"]]
    by_client = await _messages(client, auth(), client_id="alice")
    assert [m["id"] for m in by_client] == [sent[0]["id"], sent[1]["id"], sent[3]["id"]]
    both = await _messages(client, auth(), agent_id="one", client_id="alice")
    assert [m["id"] for m in both] == [sent[0]["id"], sent[3]["id"]]
    assert [m["id"] for m in await _messages(client, auth(), limit=2)] == [sent[2]["id"], sent[3]["id"]]


async def test_client_message_refusals(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "sleepy")
    await running_agent(client, auth("operator", "tenant-b"), "stranger")
    _error(await _send(client, auth(), "sleepy", "web-1", "hello there"), 409, "AGENT_NOT_RUNNING")
    _error(await _send(client, auth(), "stranger", "web-1", "hello there"), 404, "AGENT_NOT_FOUND")
    mismatch = await _send(client, auth(), "sleepy", "web-1", "hello", tenant_id="tenant-b")
    _error(mismatch, 403, "TENANT_MISMATCH")
    _error(await _send(client, auth("viewer"), "sleepy", "web-1", "hello there"), 403, "ROLE_FORBIDDEN")
    _error(await _send(client, auth(), "sleepy", "web-1", "   "), 422, "VALIDATION_ERROR")
    assert await _messages(client, auth()) == [], "a refused message is not recorded"
    assert (await client.get("/orchestrator/runs", headers=auth())).json()["runs"] == []


async def test_client_messages_tenant_isolation(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mine")
    await running_agent(client, auth("operator", "tenant-b"), "theirs")
    ours = (await _send(client, auth(), "mine", "web-1", "say hello")).json()
    theirs = (await _send(client, auth("operator", "tenant-b"), "theirs", "web-1", "say hello")).json()
    assert [m["id"] for m in await _messages(client, auth("viewer"))] == [ours["id"]]
    assert [m["id"] for m in await _messages(client, auth("viewer", "tenant-b"))] == [theirs["id"]]
    assert await _messages(client, auth(), agent_id="theirs") == []
    platform = await _messages(client, auth("admin", None))
    assert {m["id"] for m in platform} == {ours["id"], theirs["id"]}


async def test_internal_action_records_the_caller(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "mailer")
    first = await _act(
        client, auth(sub="alice"), agent_id="mailer", action="restart", payload={"why": "stuck"}
    )
    assert first.status_code == 201, first.text
    entry = first.json()
    assert (entry["operator_id"], entry["tenant_id"], entry["agent_id"]) == ("alice", "tenant-a", "mailer")
    assert (entry["action"], entry["payload"]) == ("restart", {"why": "stuck"})
    second = await _act(client, auth("admin", sub="root"), action="rotate-keys")
    assert second.status_code == 201, second.text
    assert (second.json()["operator_id"], second.json()["agent_id"]) == ("root", None)
    forged = await _act(client, auth(sub="alice"), agent_id="mailer", action="restart", operator_id="mallory")
    _error(forged, 422, "VALIDATION_ERROR")
    listed = await _actions(client, auth("viewer"))
    assert [(a["id"], a["operator_id"]) for a in listed] == [
        (entry["id"], "alice"),
        (second.json()["id"], "root"),
    ]
    assert [a["id"] for a in await _actions(client, auth(), agent_id="mailer")] == [entry["id"]]
    assert [a["id"] for a in await _actions(client, auth(), limit=1)] == [second.json()["id"]]


async def test_internal_action_refusals(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "mailer")
    await create_agent(client, auth("operator", "tenant-b"), "stranger")
    _error(await _act(client, auth(), agent_id="stranger", action="restart"), 404, "AGENT_NOT_FOUND")
    _error(await _act(client, auth(), tenant_id="tenant-b", action="restart"), 403, "TENANT_MISMATCH")
    _error(await _act(client, auth("viewer"), action="restart"), 403, "ROLE_FORBIDDEN")
    _error(await _act(client, auth(), action="  "), 422, "VALIDATION_ERROR")
    _error(await _act(client, auth("admin", None), action="rotate-keys"), 422, "VALIDATION_ERROR")
    assert await _actions(client, auth("admin", None)) == [], "a refused action is not recorded"


async def test_internal_actions_tenant_isolation(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "mine")
    await create_agent(client, auth("operator", "tenant-b"), "theirs")
    ours = (await _act(client, auth(), agent_id="mine", action="restart")).json()
    theirs = (await _act(client, auth("operator", "tenant-b"), agent_id="theirs", action="restart")).json()
    platform = await _act(client, auth("admin", None, sub="root"), tenant_id="tenant-b", action="audit")
    assert platform.status_code == 201 and platform.json()["tenant_id"] == "tenant-b", platform.text
    by_agent = await _act(client, auth("admin", None, sub="root"), agent_id="mine", action="inspect")
    assert by_agent.status_code == 201 and by_agent.json()["tenant_id"] == "tenant-a", by_agent.text
    assert [a["id"] for a in await _actions(client, auth("viewer"))] == [ours["id"], by_agent.json()["id"]]
    tenant_b = [a["id"] for a in await _actions(client, auth("viewer", "tenant-b"))]
    assert tenant_b == [theirs["id"], platform.json()["id"]]
    assert await _actions(client, auth(), agent_id="theirs") == []
    assert len(await _actions(client, auth("admin", None))) == 4
