"""An agent's identity is (tenant, id): ids are reused freely across tenants and never leak."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi import FastAPI

from talkative.agents.models import Agent
from talkative.settings import Settings
from tests.factories.agents import running_agent

Auth = Callable[..., dict[str, str]]


async def _create(
    client: httpx.AsyncClient, auth: Auth, tenant: str, body: dict[str, object]
) -> httpx.Response:
    return await client.post("/agents", json={"name": "Bot", **body}, headers=auth(tenant=tenant))


async def test_a_reused_agent_id_shows_none_of_the_previous_tenants_history(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(tenant="tenant-a"), "recycled", name="Bot")
    sent = await client.post(
        "/agents/recycled/message",
        json={"message": "secret plan of tenant a"},
        headers=auth(tenant="tenant-a"),
    )
    assert sent.status_code == 200, sent.text
    assert (await client.post("/agents/recycled/stop", headers=auth(tenant="tenant-a"))).status_code == 200
    assert (await client.delete("/agents/recycled", headers=auth(tenant="tenant-a"))).status_code == 204

    assert (await _create(client, auth, "tenant-b", {"id": "recycled"})).status_code == 201
    events = (await client.get("/agents/recycled/events", headers=auth(tenant="tenant-b"))).json()["events"]
    assert events and all(e["tenant_id"] == "tenant-b" for e in events)
    assert "secret plan" not in str(events)
    # Nor does B's agent see A's history in what it sends the model (its context).
    assert (await client.post("/agents/recycled/start", headers=auth(tenant="tenant-b"))).status_code == 200
    reply = await client.post(
        "/agents/recycled/message", json={"message": "hello"}, headers=auth(tenant="tenant-b")
    )
    assert reply.status_code == 200, reply.text
    runs = await client.get(
        "/orchestrator/runs", params={"agent_id": "recycled"}, headers=auth(tenant="tenant-b")
    )
    assert [r["tenant_id"] for r in runs.json()["runs"]] == ["tenant-b"]
    assert "secret plan" not in reply.text


async def test_two_tenants_each_have_an_inbox_bot(client: httpx.AsyncClient, auth: Auth) -> None:
    a = await _create(client, auth, "tenant-a", {"id": "inbox-bot", "name": "A's inbox"})
    b = await _create(client, auth, "tenant-b", {"id": "inbox-bot", "name": "B's inbox"})
    assert (a.status_code, b.status_code) == (201, 201), b.text
    assert a.json()["workspace"] != b.json()["workspace"]
    for tenant, name in (("tenant-a", "A's inbox"), ("tenant-b", "B's inbox")):
        seen = await client.get("/agents/inbox-bot", headers=auth(tenant=tenant))
        assert seen.json()["name"] == name
        assert (await client.post("/agents/inbox-bot/start", headers=auth(tenant=tenant))).status_code == 200
        reply = await client.post(
            "/agents/inbox-bot/message", json={"message": f"hi from {tenant}"}, headers=auth(tenant=tenant)
        )
        assert reply.status_code == 200, reply.text
        workflow = (await client.get("/agents/inbox-bot/workflow", headers=auth(tenant=tenant))).json()
        assert workflow["tenant_id"] == tenant and workflow["version"] == 1
    # Stopping and deleting one leaves the other running.
    await client.post("/agents/inbox-bot/stop", headers=auth(tenant="tenant-a"))
    assert (await client.delete("/agents/inbox-bot", headers=auth(tenant="tenant-a"))).status_code == 204
    assert (await client.get("/agents/inbox-bot", headers=auth(tenant="tenant-b"))).json()[
        "status"
    ] == "running"


async def test_creating_an_agent_reveals_nothing_about_other_tenants_ids(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    assert (await _create(client, auth, "tenant-a", {"id": "taken"})).status_code == 201
    assert (await _create(client, auth, "tenant-b", {"id": "taken"})).status_code == 201
    # Within one tenant an id is still unique.
    again = await _create(client, auth, "tenant-b", {"id": "taken"})
    assert again.status_code == 409 and again.json()["code"] == "AGENT_EXISTS"
    # An id derived from the name is the plain slug whatever other tenants hold.
    assert (await _create(client, auth, "tenant-a", {"name": "Mail Sorter"})).json()["id"] == "mail-sorter"
    assert (await _create(client, auth, "tenant-b", {"name": "Mail Sorter"})).json()["id"] == "mail-sorter"


async def test_workspaces_live_in_a_per_tenant_folder(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    a = await _create(client, auth, "tenant-a", {"id": "one", "workspace": "shared"})
    b = await _create(client, auth, "tenant-b", {"id": "two", "workspace": "shared"})
    assert a.json()["workspace"] == "workspaces/tenant-a/shared"
    assert b.json()["workspace"] == "workspaces/tenant-b/shared"
    assert (settings.data_dir / "workspaces/tenant-a/shared/HEARTBEAT.md").is_file()
    taken = await _create(client, auth, "tenant-a", {"id": "three", "workspace": "shared"})
    assert taken.status_code == 409 and taken.json()["code"] == "WORKSPACE_TAKEN"


async def test_concurrent_creates_naming_one_workspace_never_share_it(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    """16 concurrent creates, 8 per tenant, all naming workspace `crowded` (PostgreSQL runs them in
    parallel): one agent per tenant gets it, the others are refused, and deleting B's leaves A's files."""
    tenants = ["tenant-a", "tenant-b"]
    responses = await asyncio.gather(
        *(
            _create(client, auth, tenants[i % 2], {"id": f"racer-{i}", "workspace": "crowded"})
            for i in range(16)
        )
    )
    won = [(tenants[i % 2], r.json()) for i, r in enumerate(responses) if r.status_code == 201]
    assert sorted(t for t, _ in won) == tenants, [r.text for r in responses]
    assert all(r.status_code in (201, 409) for r in responses)
    assert all(r.json()["code"] == "WORKSPACE_TAKEN" for r in responses if r.status_code == 409)
    paths = {t: agent["workspace"] for t, agent in won}
    assert paths["tenant-a"] != paths["tenant-b"]
    a_file = settings.data_dir / paths["tenant-a"] / "inputs" / "mine.txt"
    a_file.write_text("tenant a's data")
    b_agent = next(agent for t, agent in won if t == "tenant-b")
    deleted = await client.delete(f"/agents/{b_agent['id']}", headers=auth(tenant="tenant-b"))
    assert deleted.status_code == 204
    assert a_file.read_text() == "tenant a's data"


async def test_a_tenant_with_an_unusual_id_gets_a_safe_folder(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    created = await _create(client, auth, "../../etc", {"id": "escape"})
    assert created.status_code == 201, created.text
    workspace = Path(created.json()["workspace"])
    assert workspace.parts[0] == "workspaces" and ".." not in workspace.parts and len(workspace.parts) == 3
    assert (settings.data_dir / workspace).resolve().is_relative_to(settings.workspaces_dir.resolve())


async def test_a_platform_admin_names_the_tenant_of_an_ambiguous_id(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await _create(client, auth, "tenant-a", {"id": "twin", "name": "A twin"})
    await _create(client, auth, "tenant-b", {"id": "twin", "name": "B twin"})
    await _create(client, auth, "tenant-b", {"id": "single", "name": "B single"})
    admin = auth("admin", None)
    ambiguous = await client.get("/agents/twin", headers=admin)
    assert ambiguous.status_code == 409
    assert ambiguous.json()["code"] == "AGENT_AMBIGUOUS" and "tenant_id" in ambiguous.json()["error"]
    named = await client.get("/agents/twin", params={"tenant_id": "tenant-b"}, headers=admin)
    assert named.json()["name"] == "B twin"
    assert (await client.get("/agents/single", headers=admin)).json()["tenant_id"] == "tenant-b"
    assert (
        await client.get("/agents/twin/events", params={"tenant_id": "tenant-a"}, headers=admin)
    ).status_code == 200
    # A tenant's token cannot use the parameter to reach another tenant.
    refused = await client.get(
        "/agents/twin", params={"tenant_id": "tenant-b"}, headers=auth(tenant="tenant-a")
    )
    assert refused.status_code == 403 and refused.json()["code"] == "TENANT_MISMATCH"
    # Messages from a platform admin name the tenant too.
    await client.post("/agents/twin/start", params={"tenant_id": "tenant-a"}, headers=admin)
    unnamed = await client.post("/agents/twin/message", json={"message": "hi"}, headers=admin)
    assert unnamed.status_code == 409 and unnamed.json()["code"] == "AGENT_AMBIGUOUS"
    sent = await client.post(
        "/agents/twin/message", params={"tenant_id": "tenant-a"}, json={"message": "hi"}, headers=admin
    )
    assert sent.status_code == 200, sent.text


async def test_lists_by_agent_keep_to_one_tenant(client: httpx.AsyncClient, auth: Auth) -> None:
    for tenant in ("tenant-a", "tenant-b"):
        assert (await _create(client, auth, tenant, {"id": "twin"})).status_code == 201
    admin = auth("admin", None)
    query = {"agent_id": "twin"}
    for path, key in (
        ("/prompts", "prompts"),
        ("/approvals", "approvals"),
        ("/channels/internal/actions", "actions"),
    ):
        mine = await client.get(path, params=query, headers=auth("viewer", "tenant-a"))
        assert all(r["tenant_id"] == "tenant-a" for r in mine.json()[key]), path
        narrowed = await client.get(path, params={**query, "tenant_id": "tenant-b"}, headers=admin)
        assert narrowed.status_code == 200 and all(r["tenant_id"] == "tenant-b" for r in narrowed.json()[key])
        other = await client.get(
            path, params={**query, "tenant_id": "tenant-b"}, headers=auth("viewer", "tenant-a")
        )
        assert (other.status_code, other.json()["code"]) == (403, "TENANT_MISMATCH"), path
    prompts = (await client.get("/prompts", params=query, headers=admin)).json()["prompts"]
    assert sorted(p["tenant_id"] for p in prompts) == ["tenant-a", "tenant-b"]
    narrowed = (await client.get("/prompts", params={**query, "tenant_id": "tenant-a"}, headers=admin)).json()
    assert [p["tenant_id"] for p in narrowed["prompts"]] == ["tenant-a"]


async def test_a_legacy_workspace_named_like_a_tenant_blocks_that_tenants_folder(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    """An agent from before per-tenant folders whose folder is `workspaces/tenant-b` would hold
    tenant-b's agents inside it: creating one is refused until an operator moves it."""
    async with app.state.sessionmaker() as session, session.begin():
        session.add(Agent(id="tenant-b", tenant_id="tenant-a", name="Old", workspace="workspaces/tenant-b"))
    refused = await _create(client, auth, "tenant-b", {"id": "fresh"})
    assert (refused.status_code, refused.json()["code"]) == (409, "TENANT_FOLDER_TAKEN")
    assert (await _create(client, auth, "tenant-c", {"id": "fresh"})).status_code == 201
