"""The prompts API: versions per agent, exactly one active, and the active one shapes the run context."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories.agents import create_agent, running_agent

Auth = Callable[..., dict[str, str]]
Json = dict[str, Any]
LONG_TEMPLATE = "You are {agent_name}. Be thorough, precise and polite. " * 80  # about 4,400 characters
MESSAGE = "collect invoices then pay supplier"


async def _versions(client: httpx.AsyncClient, auth: Auth, agent_id: str) -> list[Json]:
    response = await client.get("/prompts", params={"agent_id": agent_id}, headers=auth("viewer"))
    assert response.status_code == 200, response.text
    prompts: list[Json] = response.json()["prompts"]
    assert {p["agent_id"] for p in prompts} <= {agent_id}
    return prompts


def _active(prompts: list[Json]) -> list[int]:
    return [p["version"] for p in prompts if p["is_active"]]


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, template: str, **extra: Any
) -> httpx.Response:
    body = {"agent_id": agent_id, "template": template, **extra}
    return await client.post("/prompts", json=body, headers=headers)


async def _activate(
    client: httpx.AsyncClient, headers: dict[str, str], agent_id: str, version: int, **extra: Any
) -> httpx.Response:
    body = {"agent_id": agent_id, "version": version, **extra}
    return await client.post("/prompts/activate", json=body, headers=headers)


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["error"], response.text


async def _context_tokens(client: httpx.AsyncClient, auth: Auth, agent_id: str, text: str) -> int:
    reply = await client.post(f"/agents/{agent_id}/message", json={"message": text}, headers=auth())
    assert reply.status_code == 200, reply.text
    run_id = reply.json()["run_id"]
    response = await client.get(f"/agents/{agent_id}/events", params={"tail": 50}, headers=auth("viewer"))
    found = [
        e for e in response.json()["events"] if e["type"] == "INTERPRETATION_RESULT" and e["run_id"] == run_id
    ]
    assert found, f"no INTERPRETATION_RESULT for run {run_id}"
    tokens: int = found[-1]["payload"]["context"]["tokens"]
    assert isinstance(tokens, int) and tokens > 0
    return tokens


async def test_new_agent_has_one_active_version(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "writer")
    prompts = await _versions(client, auth, "writer")
    assert [(p["version"], p["is_active"]) for p in prompts] == [(1, True)]
    assert prompts[0]["tenant_id"] == "tenant-a" and prompts[0]["template"].strip()


async def test_create_is_next_version_inactive_unless_asked(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "writer")
    second = await _create(client, auth(), "writer", "Version two for {agent_name}.")
    assert second.status_code == 201, second.text
    assert (second.json()["version"], second.json()["is_active"]) == (2, False)
    assert second.json()["template"] == "Version two for {agent_name}."
    assert _active(await _versions(client, auth, "writer")) == [1]
    third = await _create(client, auth(), "writer", "Version three.", activate=True)
    assert third.status_code == 201, third.text
    assert (third.json()["version"], third.json()["is_active"]) == (3, True)
    prompts = await _versions(client, auth, "writer")
    assert [p["version"] for p in prompts] == [1, 2, 3], "newest last"
    assert _active(prompts) == [3]


async def test_activate_switches_exactly_one(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "writer")
    for i in (2, 3):
        assert (await _create(client, auth(), "writer", f"Version {i}.")).status_code == 201
    for version in (2, 1, 3, 3):
        response = await _activate(client, auth(), "writer", version)
        assert response.status_code == 200, response.text
        assert (response.json()["version"], response.json()["is_active"]) == (version, True)
        prompts = await _versions(client, auth, "writer")
        assert [(p["version"], p["is_active"]) for p in prompts] == [(v, v == version) for v in (1, 2, 3)]
    _error(await _activate(client, auth(), "writer", 9), 404, "PROMPT_NOT_FOUND")
    assert _active(await _versions(client, auth, "writer")) == [3], "a refused activation changes nothing"
    _error(await _activate(client, auth(), "writer", 0), 422, "VALIDATION_ERROR")


async def test_tenancy_and_roles(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "writer")
    await create_agent(client, auth("operator", "tenant-b"), "stranger")
    _error(await _create(client, auth(), "stranger", "Hijack."), 404, "AGENT_NOT_FOUND")
    _error(await _activate(client, auth(), "stranger", 1), 404, "AGENT_NOT_FOUND")
    mismatch = await _create(client, auth(), "writer", "Mine.", tenant_id="tenant-b")
    _error(mismatch, 403, "TENANT_MISMATCH")
    _error(await _activate(client, auth(), "writer", 1, tenant_id="tenant-b"), 403, "TENANT_MISMATCH")
    _error(await _create(client, auth("viewer"), "writer", "Read only."), 403, "ROLE_FORBIDDEN")
    _error(await _activate(client, auth("viewer"), "writer", 1), 403, "ROLE_FORBIDDEN")
    assert [p["version"] for p in await _versions(client, auth, "writer")] == [1]
    theirs = await client.get("/prompts", params={"agent_id": "stranger"}, headers=auth())
    assert theirs.json()["prompts"] == [], "another tenant's prompts are not listed"
    mine = (await client.get("/prompts", headers=auth())).json()["prompts"]
    assert {p["agent_id"] for p in mine} == {"writer"}
    explicit = await _create(client, auth(), "writer", "Mine.", tenant_id="tenant-a")
    assert explicit.status_code == 201 and explicit.json()["tenant_id"] == "tenant-a"


async def test_active_prompt_shapes_the_context(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "writer")
    baseline = await _context_tokens(client, auth, "writer", MESSAGE)
    created = await _create(client, auth(), "writer", LONG_TEMPLATE)
    assert created.status_code == 201 and created.json()["version"] == 2
    inactive = await _context_tokens(client, auth, "writer", MESSAGE)
    assert inactive < baseline + 500, "an inactive version must not be used"
    assert (await _activate(client, auth(), "writer", 2)).status_code == 200
    active = await _context_tokens(client, auth, "writer", MESSAGE)
    assert active > inactive + 800, (baseline, inactive, active)
    types = [e["type"] for e in (await client.get("/agents/writer/events", headers=auth())).json()["events"]]
    assert "PROMPT_ACTIVATED" in types


async def test_concurrent_creates_get_distinct_versions(app: FastAPI, auth: Auth) -> None:
    # Unhandled errors come back as the server's 500 response instead of being raised in the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://talkative.test") as client:
        await create_agent(client, auth(), "writer")
        responses = await asyncio.gather(
            *(_create(client, auth(), "writer", f"Draft {i}.", activate=i % 2 == 0) for i in range(5))
        )
        assert [r.status_code for r in responses] == [201] * 5, (
            "BUG: prompts.service.create numbers versions with SELECT max(version) ... FOR UPDATE, which "
            "does not serialise concurrent creates (the new row is invisible to the waiting statement), so "
            "two requests take the same version and one fails with a 500 on uq_prompts_agent_version: "
            f"{[(r.status_code, r.json().get('code')) for r in responses]}"
        )
        assert sorted(r.json()["version"] for r in responses) == [2, 3, 4, 5, 6]
        prompts = await _versions(client, auth, "writer")
    assert [p["version"] for p in prompts] == [1, 2, 3, 4, 5, 6]
    assert len(_active(prompts)) == 1, prompts
    assert sorted(p["template"] for p in prompts[1:]) == [f"Draft {i}." for i in range(5)]
