"""Tenant isolation comes from the token, never from the query or the body."""

from __future__ import annotations

from collections.abc import Callable

import httpx

Auth = Callable[..., dict[str, str]]


async def _seed(client: httpx.AsyncClient, auth: Auth) -> None:
    for tenant, agent in (("tenant-a", "alpha"), ("tenant-b", "bravo")):
        response = await client.post(
            "/agents", json={"id": agent, "name": agent}, headers=auth(tenant=tenant)
        )
        assert response.status_code == 201, response.text


async def test_lists_are_filtered_by_token(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    seen_by_b = await client.get("/agents", headers=auth("viewer", "tenant-b"))
    assert [a["id"] for a in seen_by_b.json()["agents"]] == ["bravo"]
    # A query parameter cannot widen the scope.
    widened = await client.get(
        "/agents", params={"tenant_id": "tenant-a"}, headers=auth("viewer", "tenant-b")
    )
    assert [a["id"] for a in widened.json()["agents"]] == ["bravo"]


async def test_other_tenants_agent_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    response = await client.get("/agents/alpha", headers=auth("admin", "tenant-b"))
    assert response.status_code == 404
    assert response.json()["code"] == "AGENT_NOT_FOUND"


async def test_body_tenant_must_match_token(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await client.post(
        "/agents", json={"name": "Sneaky", "tenant_id": "tenant-b"}, headers=auth("operator", "tenant-a")
    )
    assert response.status_code == 403
    assert response.json()["code"] == "TENANT_MISMATCH"
    same = await client.post(
        "/agents", json={"name": "Fine", "tenant_id": "tenant-a"}, headers=auth("operator", "tenant-a")
    )
    assert same.status_code == 201


async def test_platform_admin_sees_every_tenant(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    listing = await client.get("/agents", headers=auth("admin", None))
    assert sorted(a["id"] for a in listing.json()["agents"]) == ["alpha", "bravo"]
    assert (await client.get("/agents/alpha", headers=auth("admin", None))).status_code == 200
    created = await client.post(
        "/agents", json={"name": "Placed", "tenant_id": "tenant-c"}, headers=auth("admin", None)
    )
    assert created.json()["tenant_id"] == "tenant-c"
