"""Agents are looked up in the caller's tenant only: another tenant's agent is exactly as missing
as one that does not exist, errors name the id asked for, and a list is the scope's newest agents,
oldest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from talkative.agents import service
from talkative.agents.models import Agent

Auth = Callable[..., dict[str, str]]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


async def _create(client: httpx.AsyncClient, auth: Auth, tenant: str, agent_id: str) -> None:
    created = await client.post(
        "/agents", json={"id": agent_id, "name": agent_id}, headers=auth(tenant=tenant)
    )
    assert created.status_code == 201, created.text


async def _add(app: FastAPI, *agents: tuple[str, str, int]) -> None:
    """(tenant, id, minutes after T0) rows, stored one by one in the order given."""
    for tenant, agent_id, minutes in agents:
        async with app.state.sessionmaker() as session, session.begin():
            session.add(
                Agent(
                    tenant_id=tenant,
                    id=agent_id,
                    name=agent_id,
                    workspace=f"workspaces/{tenant}/{agent_id}",
                    created_at=T0 + timedelta(minutes=minutes),
                )
            )


async def _ids(app: FastAPI, tenant: str | None, limit: int) -> list[str]:
    async with app.state.sessionmaker() as session:
        return [a.id for a in await service.list_agents(session=session, tenant_id=tenant, limit=limit)]


async def test_another_tenants_agent_is_reported_exactly_like_a_missing_one(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await _create(client, auth, "tenant-a", "alpha")

    theirs = await client.get("/agents/alpha", headers=auth("admin", "tenant-b"))
    missing = await client.get("/agents/nobody", headers=auth("admin", "tenant-b"))

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == {"error": "agent 'alpha' not found", "code": "AGENT_NOT_FOUND"}
    assert missing.json() == {"error": "agent 'nobody' not found", "code": "AGENT_NOT_FOUND"}
    mine = await client.get("/agents/alpha", headers=auth("viewer", "tenant-a"))
    assert mine.status_code == 200 and mine.json()["tenant_id"] == "tenant-a"


async def test_a_platform_admin_finds_any_tenants_agent_unless_the_id_is_ambiguous(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await _create(client, auth, "tenant-a", "solo")
    await _create(client, auth, "tenant-a", "twin")
    await _create(client, auth, "tenant-b", "twin")
    admin = auth("admin", None)

    assert (await client.get("/agents/solo", headers=admin)).json()["tenant_id"] == "tenant-a"
    missing = await client.get("/agents/nobody", headers=admin)
    assert (missing.status_code, missing.json()) == (
        404,
        {"error": "agent 'nobody' not found", "code": "AGENT_NOT_FOUND"},
    )
    ambiguous = await client.get("/agents/twin", headers=admin)
    assert ambiguous.status_code == 409
    assert ambiguous.json() == {
        "error": "several tenants have an agent 'twin'; name the tenant with ?tenant_id= (or tenant_id in the body)",
        "code": "AGENT_AMBIGUOUS",
    }
    named = await client.get("/agents/twin", params={"tenant_id": "tenant-b"}, headers=admin)
    assert named.json()["tenant_id"] == "tenant-b"


async def test_a_list_is_the_scopes_newest_agents_oldest_first(app: FastAPI) -> None:
    # Ids sort against creation time, so an order by id alone would pick others.
    await _add(app, ("tenant-a", "zulu", 0), ("tenant-a", "alpha", 1), ("tenant-a", "mike", 2))
    await _add(app, ("tenant-b", "bravo", 3))

    assert await _ids(app, "tenant-a", limit=2) == ["alpha", "mike"]
    assert await _ids(app, "tenant-a", limit=10) == ["zulu", "alpha", "mike"]
    assert await _ids(app, "tenant-b", limit=10) == ["bravo"]
    assert await _ids(app, None, limit=3) == ["alpha", "mike", "bravo"]


async def test_agents_created_at_the_same_moment_are_listed_by_id(app: FastAPI) -> None:
    # Stored in an order that is neither the ids' nor their reverse.
    await _add(app, ("tenant-a", "a2", 0), ("tenant-a", "a3", 0), ("tenant-a", "a1", 0))

    assert await _ids(app, "tenant-a", limit=2) == ["a2", "a3"]
    assert await _ids(app, "tenant-a", limit=3) == ["a1", "a2", "a3"]
