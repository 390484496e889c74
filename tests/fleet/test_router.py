"""Fleet over HTTP: admin only, tenant-scoped from the token, strict about what a node may be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

Auth = Callable[..., dict[str, str]]

SSH_NODE = {
    "name": "box",
    "mode": "ssh",
    "ssh_host": "10.0.0.5",
    "ssh_user": "deploy",
    "ssh_port": 2222,
    "base_path": "/srv/agents",
}
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/fleet/tenants", None),
    ("POST", "/fleet/tenants", {"name": "Acme"}),
    ("GET", "/fleet/clouds", None),
    ("POST", "/fleet/clouds", {"name": "home", "provider": "local"}),
    ("GET", "/fleet/nodes", None),
    ("POST", "/fleet/nodes", {"name": "here"}),
    ("GET", "/fleet/nodes/node_x", None),
    ("GET", "/fleet/agents", None),
    ("POST", "/fleet/agents", {"id": "scout", "name": "Scout"}),
    ("GET", "/fleet/agents/scout", None),
    ("POST", "/fleet/agents/scout/provision", {"node_id": "node_x"}),
]


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("role", ["operator", "viewer"])
@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_only_admins_reach_the_fleet(
    client: httpx.AsyncClient, auth: Auth, role: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await client.request(method, path, json=body, headers=auth(role, "tenant-a"))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "ROLE_FORBIDDEN"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_no_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert (await client.request(method, path, json=body)).status_code == 401


async def test_every_fleet_route_is_documented(app: FastAPI) -> None:
    operations = {
        op["operationId"]: op
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/fleet/")  # "/fleet" itself is the web page
        for op in item.values()
    }
    assert set(operations) == {
        "listTenants",
        "createTenant",
        "listClouds",
        "createCloud",
        "listNodes",
        "createNode",
        "getNode",
        "listFleetAgents",
        "createFleetAgent",
        "getFleetAgent",
        "provisionFleetAgent",
    }
    assert all({"403", "404", "422"} <= set(op["responses"]) for op in operations.values())
    assert {"502", "503"} <= set(operations["provisionFleetAgent"]["responses"])


async def test_tenants_clouds_nodes_and_agents_are_created_and_listed(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    admin = auth("admin", "tenant-a")
    tenant = await post(client, "/fleet/tenants", {"name": "Acme"}, admin)
    assert (tenant["tenant_id"], tenant["name"]) == ("tenant-a", "Acme")
    cloud = await post(
        client, "/fleet/clouds", {"name": "hetzner", "provider": "hetzner", "region": "fsn1"}, admin
    )
    node = await post(client, "/fleet/nodes", {**SSH_NODE, "cloud_id": cloud["id"]}, admin)
    assert node["status"] == "new" and node["cloud_id"] == cloud["id"] and node["ssh_port"] == 2222
    local = await post(client, "/fleet/nodes", {"name": "here"}, admin)
    assert (local["mode"], local["base_path"], local["ssh_host"]) == ("local", None, None)
    agent = await post(
        client, "/fleet/agents", {"id": "scout", "name": "Scout", "skills": ["mail-triage"]}, admin
    )
    assert (agent["tenant_id"], agent["skills"], agent["placements"]) == ("tenant-a", ["mail-triage"], [])

    nodes = (await client.get("/fleet/nodes", headers=admin)).json()["nodes"]
    assert [n["name"] for n in nodes] == ["box", "here"]  # newest last
    assert (await client.get("/fleet/tenants", headers=admin)).json()["tenants"] == [tenant]
    assert (await client.get("/fleet/clouds", headers=admin)).json()["clouds"] == [cloud]
    assert (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json() == node
    assert (await client.get("/fleet/agents", headers=admin)).json()["agents"] == [agent]
    assert (await client.get("/fleet/agents/scout", headers=admin)).json() == agent


async def test_ssh_node_with_default_port(client: httpx.AsyncClient, auth: Auth) -> None:
    body = {k: v for k, v in SSH_NODE.items() if k != "ssh_port"}
    node = await post(client, "/fleet/nodes", body, auth("admin", "tenant-a"))
    assert node["ssh_port"] == 22


@pytest.mark.parametrize(
    "host", ["-oProxyCommand=x", "a b", "host;rm", "user@host", "$(id)", "x" * 254, "", "h\nx", "[::1]"]
)
async def test_bad_hosts_are_422(client: httpx.AsyncClient, auth: Auth, host: str) -> None:
    response = await client.post(
        "/fleet/nodes", json={**SSH_NODE, "ssh_host": host}, headers=auth("admin", None)
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_ERROR" and "ssh_host" in response.json()["error"]


@pytest.mark.parametrize("port", [0, -1, 65536, "22; rm -rf /", 22.5, True])
async def test_bad_ports_are_422(client: httpx.AsyncClient, auth: Auth, port: object) -> None:
    response = await client.post(
        "/fleet/nodes", json={**SSH_NODE, "ssh_port": port}, headers=auth("admin", None)
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("user", ["-oProxyCommand=x", "root;id", "a b", "u@h", "x" * 33])
async def test_bad_users_are_422(client: httpx.AsyncClient, auth: Auth, user: str) -> None:
    response = await client.post(
        "/fleet/nodes", json={**SSH_NODE, "ssh_user": user}, headers=auth("admin", None)
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "path",
    ["srv/agents", "../agents", "/srv/../etc", "/", "/srv/a b", "/srv/$(id)", "/srv/a\nb", "/srv/a\x00b"],
)
async def test_bad_base_paths_are_422(client: httpx.AsyncClient, auth: Auth, path: str) -> None:
    response = await client.post(
        "/fleet/nodes", json={**SSH_NODE, "base_path": path}, headers=auth("admin", None)
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "n", "mode": "ssh", "ssh_user": "u", "base_path": "/srv/a"}, "requires ssh_host"),
        ({"name": "n", "mode": "ssh", "ssh_host": "h", "ssh_user": "u"}, "requires base_path"),
        ({"name": "n", "mode": "local", "ssh_host": "h"}, "only apply to mode 'ssh'"),
        ({"name": "n", "mode": "ftp"}, "mode"),
        ({"name": "n", "mode": "local", "extra": 1}, "extra"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "n", "tenant_id": "t\nx"}, "tenant_id"),
    ],
)
async def test_node_fields_must_fit_the_mode(
    client: httpx.AsyncClient, auth: Auth, body: dict[str, Any], fragment: str
) -> None:
    response = await client.post("/fleet/nodes", json=body, headers=auth("admin", None))
    assert response.status_code == 422, response.text
    assert fragment in response.text


async def test_local_base_path_must_stay_in_the_local_root(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    admin = auth("admin", "tenant-a")
    outside = await client.post("/fleet/nodes", json={"name": "etc", "base_path": "/etc"}, headers=admin)
    assert outside.status_code == 422 and outside.json()["code"] == "UNSAFE_BASE_PATH"
    inside = str(app.state.settings.fleet_root / "tenant-a" / "team-a")
    assert (
        await client.post("/fleet/nodes", json={"name": "a", "base_path": inside}, headers=admin)
    ).status_code == 201


async def test_duplicates_are_409(client: httpx.AsyncClient, auth: Auth) -> None:
    admin = auth("admin", "tenant-a")
    cloud = await post(client, "/fleet/clouds", {"name": "home", "provider": "local"}, admin)
    await post(client, "/fleet/tenants", {"name": "Acme"}, admin)
    await post(client, "/fleet/nodes", {"name": "here"}, admin)
    await post(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, admin)
    for path, body, code in [
        ("/fleet/tenants", {"name": "Acme again"}, "TENANT_EXISTS"),
        ("/fleet/clouds", {"name": "home", "provider": "aws"}, "CLOUD_EXISTS"),
        ("/fleet/nodes", {"name": "here"}, "NODE_EXISTS"),
        ("/fleet/agents", {"id": "scout", "name": "Other"}, "FLEET_AGENT_EXISTS"),
    ]:
        response = await client.post(path, json=body, headers=admin)
        assert (response.status_code, response.json()["code"]) == (409, code), path
    # Names are unique per tenant only.
    other = auth("admin", "tenant-b")
    assert (
        await client.post("/fleet/clouds", json={"name": "home", "provider": "local"}, headers=other)
    ).status_code == 201
    assert (await client.post("/fleet/nodes", json={"name": "here"}, headers=other)).status_code == 201
    assert cloud["id"]


async def test_unknown_ids_are_404_and_unknown_skills_422(client: httpx.AsyncClient, auth: Auth) -> None:
    admin = auth("admin", "tenant-a")
    missing_cloud = await client.post("/fleet/nodes", json={"name": "n", "cloud_id": "nope"}, headers=admin)
    assert (missing_cloud.status_code, missing_cloud.json()["code"]) == (404, "CLOUD_NOT_FOUND")
    assert (await client.get("/fleet/nodes/nope", headers=admin)).json()["code"] == "NODE_NOT_FOUND"
    assert (await client.get("/fleet/agents/nope", headers=admin)).json()["code"] == "FLEET_AGENT_NOT_FOUND"
    unknown = await client.post(
        "/fleet/agents", json={"id": "scout", "name": "S", "skills": ["mail-triage", "rm-rf"]}, headers=admin
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "UNKNOWN_SKILL")
    assert "rm-rf" in unknown.json()["error"] and "mail-triage" in unknown.json()["error"]
    await post(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, admin)
    node = await post(client, "/fleet/nodes", {"name": "here"}, admin)
    no_node = await client.post("/fleet/agents/scout/provision", json={"node_id": "nope"}, headers=admin)
    assert (no_node.status_code, no_node.json()["code"]) == (404, "NODE_NOT_FOUND")
    no_agent = await client.post("/fleet/agents/ghost/provision", json={"node_id": node["id"]}, headers=admin)
    assert (no_agent.status_code, no_agent.json()["code"]) == (404, "FLEET_AGENT_NOT_FOUND")
    bad_skill = await client.post(
        "/fleet/agents/scout/provision", json={"node_id": node["id"], "skills": ["../../etc"]}, headers=admin
    )
    assert (bad_skill.status_code, bad_skill.json()["code"]) == (422, "UNKNOWN_SKILL")
    bad_id = await client.post("/fleet/agents", json={"id": "../x", "name": "X"}, headers=admin)
    assert bad_id.status_code == 422


async def test_tenants_are_isolated(client: httpx.AsyncClient, auth: Auth) -> None:
    a, b = auth("admin", "tenant-a"), auth("admin", "tenant-b")
    cloud_a = await post(client, "/fleet/clouds", {"name": "home", "provider": "local"}, a)
    node_a = await post(client, "/fleet/nodes", {"name": "here"}, a)
    await post(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, a)
    await post(client, "/fleet/tenants", {"name": "Acme"}, a)
    node_b = await post(client, "/fleet/nodes", {"name": "there"}, b)

    for path, key in [
        ("/fleet/nodes", "nodes"),
        ("/fleet/clouds", "clouds"),
        ("/fleet/agents", "agents"),
        ("/fleet/tenants", "tenants"),
    ]:
        seen = (await client.get(path, headers=b)).json()[key]
        assert all(row["tenant_id"] == "tenant-b" for row in seen), path
    assert (await client.get(f"/fleet/nodes/{node_a['id']}", headers=b)).status_code == 404
    assert (await client.get("/fleet/agents/scout", headers=b)).status_code == 404
    # Another tenant's cloud cannot be used, nor its agent provisioned, nor onto its node.
    borrowed = await client.post("/fleet/nodes", json={"name": "n2", "cloud_id": cloud_a["id"]}, headers=b)
    assert (borrowed.status_code, borrowed.json()["code"]) == (404, "CLOUD_NOT_FOUND")
    foreign = await client.post("/fleet/agents/scout/provision", json={"node_id": node_b["id"]}, headers=b)
    assert (foreign.status_code, foreign.json()["code"]) == (404, "FLEET_AGENT_NOT_FOUND")
    platform = auth("admin", None)
    cross = await client.post(
        "/fleet/agents/scout/provision", json={"node_id": node_b["id"]}, headers=platform
    )
    assert (cross.status_code, cross.json()["code"]) == (404, "NODE_NOT_FOUND")
    # A body tenant that is not the token's is refused; a platform admin may choose it.
    for path, body in [
        ("/fleet/nodes", {"name": "x", "tenant_id": "tenant-a"}),
        ("/fleet/tenants", {"name": "x", "tenant_id": "tenant-a"}),
        ("/fleet/agents/scout/provision", {"node_id": node_a["id"], "tenant_id": "tenant-a"}),
    ]:
        response = await client.post(path, json=body, headers=b)
        assert (response.status_code, response.json()["code"]) == (403, "TENANT_MISMATCH"), path
    placed = await post(client, "/fleet/nodes", {"name": "x", "tenant_id": "tenant-c"}, platform)
    assert placed["tenant_id"] == "tenant-c"
    everything = (await client.get("/fleet/nodes", headers=platform)).json()["nodes"]
    assert {n["tenant_id"] for n in everything} == {"tenant-a", "tenant-b", "tenant-c"}


async def test_ssh_without_server_key_is_503_and_recorded(client: httpx.AsyncClient, auth: Auth) -> None:
    admin = auth("admin", "tenant-a")
    node = await post(client, "/fleet/nodes", SSH_NODE, admin)
    await post(client, "/fleet/agents", {"id": "scout", "name": "Scout"}, admin)

    response = await client.post("/fleet/agents/scout/provision", json={"node_id": node["id"]}, headers=admin)

    assert response.status_code == 503, response.text
    assert response.json()["code"] == "FLEET_SSH_NOT_CONFIGURED"
    assert "TALKATIVE_FLEET_SSH_KEY" in response.json()["error"]
    placement = (await client.get("/fleet/agents/scout", headers=admin)).json()["placements"][0]
    assert (placement["node_id"], placement["status"]) == (node["id"], "failed")
    assert "TALKATIVE_FLEET_SSH_KEY" in placement["error"]
    # The server's configuration is not the node's fault.
    assert (await client.get(f"/fleet/nodes/{node['id']}", headers=admin)).json()["status"] == "new"
