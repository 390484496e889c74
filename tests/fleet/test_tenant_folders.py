"""Each tenant's local nodes live in the tenant's own folder of the local root, and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.fleet.helpers import Auth, create


def _root(app: FastAPI) -> Path:
    root: Path = app.state.settings.fleet_root
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


async def _provision(
    client: httpx.AsyncClient, admin: dict[str, str], node: str, agent: str
) -> httpx.Response:
    return await client.post(f"/fleet/agents/{agent}/provision", json={"node_id": node}, headers=admin)


async def test_local_nodes_of_two_tenants_lay_out_in_separate_folders(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    root = _root(app)
    placed = {}
    for tenant, agent in (("tenant-a", "scout-a"), ("tenant-b", "scout-b")):
        admin = auth("admin", tenant)
        node = await create(client, "/fleet/nodes", {"name": "here"}, admin)
        await create(client, "/fleet/agents", {"id": agent, "name": agent}, admin)
        response = await _provision(client, admin, node["id"], agent)
        assert response.status_code == 200, response.text
        placed[tenant] = Path(response.json()["path"])
    assert placed["tenant-a"] == root / "tenant-a" / "scout-a"
    assert placed["tenant-b"] == root / "tenant-b" / "scout-b"


async def test_a_tenant_cannot_place_a_node_in_another_tenants_folder(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    root = _root(app)
    b_admin = auth("admin", "tenant-b")
    b_node = await create(client, "/fleet/nodes", {"name": "here"}, b_admin)
    await create(client, "/fleet/agents", {"id": "scout", "name": "B's scout"}, b_admin)
    assert (await _provision(client, b_admin, b_node["id"], "scout")).status_code == 200
    b_folder = root / "tenant-b"
    before = sorted(p.relative_to(b_folder) for p in b_folder.rglob("*"))

    a_admin = auth("admin", "tenant-a")
    for path in (b_folder, b_folder / "scout", root, root / "shared"):
        refused = await client.post(
            "/fleet/nodes", json={"name": "sneaky", "base_path": str(path)}, headers=a_admin
        )
        assert (refused.status_code, refused.json()["code"]) == (422, "UNSAFE_BASE_PATH"), (
            path,
            refused.text,
        )
    # `..` is refused by the path check itself.
    dotted = await client.post(
        "/fleet/nodes", json={"name": "dots", "base_path": f"{root}/tenant-a/../tenant-b"}, headers=a_admin
    )
    assert dotted.status_code == 422
    assert sorted(p.relative_to(b_folder) for p in b_folder.rglob("*")) == before


async def test_a_symlink_into_another_tenants_folder_is_refused_at_provisioning(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    root = _root(app)
    (root / "tenant-b").mkdir()
    (root / "tenant-a").mkdir()
    a_admin = auth("admin", "tenant-a")
    node = await create(
        client, "/fleet/nodes", {"name": "here", "base_path": str(root / "tenant-a" / "link")}, a_admin
    )
    await create(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, a_admin)
    # Made after the node passed its check: provisioning resolves the path again.
    os.symlink(root / "tenant-b", root / "tenant-a" / "link")

    response = await _provision(client, a_admin, node["id"], "scout")

    assert (response.status_code, response.json()["code"]) == (422, "UNSAFE_BASE_PATH"), response.text
    assert list((root / "tenant-b").iterdir()) == []


async def test_two_tenants_each_have_a_fleet_agent_scout(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    root = _root(app)
    for tenant in ("tenant-a", "tenant-b"):
        admin = auth("admin", tenant)
        node = await create(client, "/fleet/nodes", {"name": "here"}, admin)
        await create(client, "/fleet/agents", {"id": "scout", "name": f"{tenant} scout"}, admin)
        response = await _provision(client, admin, node["id"], "scout")
        assert response.status_code == 200, response.text
        assert Path(response.json()["path"]) == root / tenant / "scout"
    for tenant in ("tenant-a", "tenant-b"):
        seen = (await client.get("/fleet/agents/scout", headers=auth("admin", tenant))).json()
        assert seen["name"] == f"{tenant} scout" and len(seen["placements"]) == 1
        assert seen["placements"][0]["path"] == str(root / tenant / "scout")
    # Within one tenant the id is still unique; a platform admin names the tenant of an ambiguous id.
    again = await client.post(
        "/fleet/agents", json={"id": "scout", "name": "x"}, headers=auth("admin", "tenant-a")
    )
    assert (again.status_code, again.json()["code"]) == (409, "FLEET_AGENT_EXISTS")
    platform = auth("admin", None)
    ambiguous = await client.get("/fleet/agents/scout", headers=platform)
    assert (ambiguous.status_code, ambiguous.json()["code"]) == (409, "FLEET_AGENT_AMBIGUOUS")
    named = await client.get("/fleet/agents/scout", params={"tenant_id": "tenant-b"}, headers=platform)
    assert named.json()["name"] == "tenant-b scout"
    listed = (await client.get("/fleet/agents", headers=platform)).json()["agents"]
    assert sorted((a["tenant_id"], len(a["placements"])) for a in listed) == [
        ("tenant-a", 1),
        ("tenant-b", 1),
    ]
