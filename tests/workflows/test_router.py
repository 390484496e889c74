"""Workflows over HTTP: versions, nodes, validation, tenancy and the version events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from talkative.events import service as events
from talkative.events.positions import START
from talkative.events.schemas import Event
from tests.factories.agents import running_agent
from tests.waiting import eventually

Auth = Callable[..., dict[str, str]]
Json = dict[str, Any]

NODES = [{"id": "collect", "name": "Collect invoices"}, {"id": "pay", "name": "Pay supplier"}]
EDGES = [{"id": "collect--pay", "source": "collect", "target": "pay"}]


def _graph(body: Json) -> tuple[list[str], list[tuple[str, str]]]:
    return [n["id"] for n in body["nodes"]], [(e["source"], e["target"]) for e in body["edges"]]


async def _save(client: httpx.AsyncClient, auth: Auth, body: Json, tenant: str = "tenant-a") -> Json:
    response = await client.post("/workflow", json=body, headers=auth(tenant=tenant))
    assert response.status_code == 201, response.text
    created: Json = response.json()
    return created


async def _seed(client: httpx.AsyncClient, auth: Auth, wf_id: str = "books") -> Json:
    return await _save(client, auth, {"id": wf_id, "name": "Books", "nodes": NODES, "edges": EDGES})


async def _versions(client: httpx.AsyncClient, auth: Auth, wf_id: str, **params: int) -> list[Json]:
    response = await client.get(f"/workflow/{wf_id}", params=params, headers=auth("viewer"))
    assert response.status_code == 200, response.text
    versions: list[Json] = response.json()["versions"]
    return versions


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and isinstance(body["error"], str) and body["error"]


async def test_create_then_same_id_is_version_two(client: httpx.AsyncClient, auth: Auth) -> None:
    first = await _seed(client, auth)
    assert (first["id"], first["tenant_id"], first["version"], first["name"]) == (
        "books",
        "tenant-a",
        1,
        "Books",
    )
    assert _graph(first) == (["collect", "pay"], [("collect", "pay")])
    second = await _save(client, auth, {"id": "books", "name": "Books v2", "nodes": NODES[:1]})
    assert (second["version"], second["name"]) == (2, "Books v2")
    assert _graph(second) == (["collect"], [])


async def test_create_without_id_generates_one(client: httpx.AsyncClient, auth: Auth) -> None:
    created = await _save(client, auth, {"name": "Anonymous"})
    assert created["id"].startswith("wf-") and created["version"] == 1
    assert (created["nodes"], created["edges"], created["agent_id"]) == ([], [], None)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "x", "nodes": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}, "INVALID_WORKFLOW"),
        (
            {
                "name": "x",
                "nodes": [{"id": "a", "name": "A"}],
                "edges": [{"id": "e", "source": "a", "target": "z"}],
            },
            "INVALID_WORKFLOW",
        ),
        ({"name": "x", "colour": "blue"}, "VALIDATION_ERROR"),
        ({"name": "x", "nodes": [{"id": "has space", "name": "A"}]}, "VALIDATION_ERROR"),
        ({"name": "   "}, "VALIDATION_ERROR"),
        ({"id": "Not A Slug", "name": "x"}, "VALIDATION_ERROR"),
    ],
    ids=["duplicate-node", "edge-to-missing", "unknown-field", "bad-node-id", "blank-name", "bad-id"],
)
async def test_bad_graphs_are_422(client: httpx.AsyncClient, auth: Auth, body: Json, code: str) -> None:
    _error(await client.post("/workflow", json=body, headers=auth()), 422, code)
    listing = await client.get("/workflows", headers=auth())
    assert listing.json()["workflows"] == [], "a refused graph must not leave a workflow behind"


async def test_bad_graph_does_not_add_a_version(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    dup = {"id": "books", "name": "Books", "nodes": NODES + NODES[:1]}
    _error(await client.post("/workflow", json=dup, headers=auth()), 422, "INVALID_WORKFLOW")
    assert [v["version"] for v in await _versions(client, auth, "books")] == [1]


async def test_versions_newest_last_with_limit(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    for i in range(2, 5):
        await _save(client, auth, {"id": "books", "name": f"Books {i}", "note": f"save {i}"})
    versions = await _versions(client, auth, "books")
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert [v["note"] for v in versions] == [None, "save 2", "save 3", "save 4"]
    assert [n["id"] for n in versions[0]["nodes"]] == ["collect", "pay"] and versions[3]["nodes"] == []
    assert [v["version"] for v in await _versions(client, auth, "books", limit=2)] == [3, 4]
    too_small = await client.get("/workflow/books", params={"limit": 0}, headers=auth())
    _error(too_small, 422, "VALIDATION_ERROR")


async def test_unknown_workflow_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    _error(await client.get("/workflow/nope", headers=auth()), 404, "WORKFLOW_NOT_FOUND")


async def test_list_is_tenant_filtered(client: httpx.AsyncClient, auth: Auth) -> None:
    await _save(client, auth, {"id": "a-one", "name": "A1"})
    await _save(client, auth, {"id": "a-two", "name": "A2"})
    await _save(client, auth, {"id": "b-one", "name": "B1"}, tenant="tenant-b")
    seen_by_a = (await client.get("/workflows", headers=auth("viewer"))).json()["workflows"]
    assert [w["id"] for w in seen_by_a] == ["a-one", "a-two"]
    seen_by_b = await client.get(
        "/workflows", params={"tenant_id": "tenant-a"}, headers=auth("viewer", "tenant-b")
    )
    assert [w["id"] for w in seen_by_b.json()["workflows"]] == ["b-one"]
    limited = await client.get("/workflows", params={"limit": 1}, headers=auth())
    assert [w["id"] for w in limited.json()["workflows"]] == ["a-two"]


async def test_add_node_creates_a_version(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    node = {"id": "file", "name": "File receipts", "position": {"x": 10, "y": 20}}
    response = await client.post("/node", json={"workflowId": "books", "node": node}, headers=auth())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 2 and _graph(body)[0] == ["collect", "pay", "file"]
    assert body["nodes"][2]["position"] == {"x": 10.0, "y": 20.0}
    assert (await _versions(client, auth, "books"))[-1]["note"] == "add node file"
    again = await client.post("/node", json={"workflowId": "books", "node": node}, headers=auth())
    _error(again, 422, "INVALID_PATCH")
    assert [v["version"] for v in await _versions(client, auth, "books")] == [1, 2]


async def test_add_node_to_unknown_workflow_is_404(client: httpx.AsyncClient, auth: Auth) -> None:
    body = {"workflowId": "ghost", "node": {"id": "n", "name": "N"}}
    _error(await client.post("/node", json=body, headers=auth()), 404, "WORKFLOW_NOT_FOUND")


async def test_patch_node_creates_a_version(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    updates = {"name": "Pay the supplier", "status": "done"}
    response = await client.patch(
        "/node/pay", json={"workflowId": "books", "updates": updates}, headers=auth()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2
    pay = next(n for n in body["nodes"] if n["id"] == "pay")
    assert (pay["name"], pay["status"]) == ("Pay the supplier", "done")
    assert _graph(body) == (["collect", "pay"], [("collect", "pay")])
    first = (await _versions(client, auth, "books"))[0]
    assert [n["name"] for n in first["nodes"]] == ["Collect invoices", "Pay supplier"]


async def test_patch_node_that_changes_nothing_writes_no_version(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await _seed(client, auth)
    same = {"workflowId": "books", "updates": {"name": "Pay supplier"}}
    response = await client.patch("/node/pay", json=same, headers=auth())
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    assert [v["version"] for v in await _versions(client, auth, "books")] == [1]
    await client.patch("/node/pay", json={**same, "updates": {"name": "Pay"}}, headers=auth())

    async def announced() -> list[object] | None:  # on PostgreSQL, once no commit can precede
        async with app.state.sessionmaker() as session:
            stored = await events.after(session, position=START, tenant_id=None, limit=100)
        versions = [e.payload.get("version") for e in stored if e.type == "WORKFLOW_VERSION_CREATED"]
        return versions if len(versions) >= 2 else None

    # The save's and the real update's, none for the update that changed nothing.
    assert await eventually(announced) == [1, 2]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/node/ghost", {"workflowId": "books", "updates": {"name": "X"}}, 404, "NODE_NOT_FOUND"),
        ("/node/pay", {"workflowId": "ghost", "updates": {"name": "X"}}, 404, "WORKFLOW_NOT_FOUND"),
        ("/node/pay", {"workflowId": "books", "updates": {"colour": "red"}}, 422, "VALIDATION_ERROR"),
        ("/node/pay", {"workflowId": "books", "updates": {"name": None}}, 422, "VALIDATION_ERROR"),
    ],
    ids=["unknown-node", "unknown-workflow", "unknown-update-field", "null-name"],
)
async def test_patch_errors(
    client: httpx.AsyncClient, auth: Auth, path: str, body: Json, status: int, code: str
) -> None:
    await _seed(client, auth)
    _error(await client.patch(path, json=body, headers=auth()), status, code)
    assert [v["version"] for v in await _versions(client, auth, "books")] == [1]


async def test_other_tenant_cannot_see_or_version(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    b = auth("admin", "tenant-b")
    _error(await client.get("/workflow/books", headers=b), 404, "WORKFLOW_NOT_FOUND")
    hijack = {"id": "books", "name": "Hijacked", "nodes": []}
    _error(await client.post("/workflow", json=hijack, headers=b), 404, "WORKFLOW_NOT_FOUND")
    node = {"workflowId": "books", "node": {"id": "evil", "name": "Evil"}}
    _error(await client.post("/node", json=node, headers=b), 404, "WORKFLOW_NOT_FOUND")
    patch = {"workflowId": "books", "updates": {"name": "Evil"}}
    _error(await client.patch("/node/pay", json=patch, headers=b), 404, "WORKFLOW_NOT_FOUND")
    mine = (await client.get("/workflow/books", headers=auth())).json()
    assert (mine["tenant_id"], mine["name"], mine["version"]) == ("tenant-a", "Books", 1)
    assert _graph(mine) == (["collect", "pay"], [("collect", "pay")])
    assert [v["version"] for v in mine["versions"]] == [1]


async def test_body_tenant_must_match_token(client: httpx.AsyncClient, auth: Auth) -> None:
    body = {"name": "Sneaky", "tenant_id": "tenant-b"}
    _error(await client.post("/workflow", json=body, headers=auth()), 403, "TENANT_MISMATCH")


async def test_viewer_cannot_write(client: httpx.AsyncClient, auth: Auth) -> None:
    await _seed(client, auth)
    viewer = auth("viewer")
    writes = [
        client.post("/workflow", json={"id": "books", "name": "V"}, headers=viewer),
        client.post("/node", json={"workflowId": "books", "node": {"id": "v", "name": "V"}}, headers=viewer),
        client.patch("/node/pay", json={"workflowId": "books", "updates": {"name": "V"}}, headers=viewer),
    ]
    for write in writes:
        _error(await write, 403, "ROLE_FORBIDDEN")
    assert [v["version"] for v in await _versions(client, auth, "books")] == [1]


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    _error(await client.get("/workflows"), 401, "MISSING_TOKEN")


async def test_each_version_is_recorded_as_an_event(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await _seed(client, auth)
    await client.post(
        "/node", json={"workflowId": "books", "node": {"id": "n3", "name": "N3"}}, headers=auth()
    )
    await client.patch("/node/n3", json={"workflowId": "books", "updates": {"name": "M"}}, headers=auth())
    await _save(client, auth, {"id": "elsewhere", "name": "B"}, tenant="tenant-b")

    async def versions_served() -> list[Event] | None:  # on PostgreSQL, once no commit can precede
        async with app.state.sessionmaker() as session:
            stored = await events.after(session, position=START, tenant_id="tenant-a", limit=100)
        created = [e for e in stored if e.type == "WORKFLOW_VERSION_CREATED"]
        return created if len(created) >= 3 else None

    created = await eventually(versions_served)
    assert [(e.payload["workflowId"], e.payload["version"]) for e in created] == [
        ("books", 1),
        ("books", 2),
        ("books", 3),
    ]
    assert [e.payload["note"] for e in created] == [None, "add node n3", "update node n3"]
    assert all(e.tenant_id == "tenant-a" and e.agent_id is None for e in created)


async def test_agent_workflow_id_cannot_be_claimed_by_another_tenant(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "payer")
    # Tenant B saves a workflow under the id tenant A's agent workflow will have.
    await client.post(
        "/workflow", json={"id": "agent-wf-payer", "name": "Trap"}, headers=auth(tenant="tenant-b")
    )
    reply = await client.post(
        "/agents/payer/message", json={"message": "collect invoices then pay supplier"}, headers=auth()
    )
    assert reply.status_code == 200, reply.text
    seen_by_b = await client.get("/workflow/agent-wf-payer", headers=auth(tenant="tenant-b"))
    leaked = [n["name"] for n in seen_by_b.json().get("nodes", [])] if seen_by_b.status_code == 200 else []
    assert leaked == [], f"BUG: tenant A's agent patched tenant B's workflow; B reads {leaked}"
    own = (await client.get("/agents/payer/workflow", headers=auth())).json()
    assert (own["tenant_id"], own["agent_id"]) == ("tenant-a", "payer"), (
        f"BUG: agent payer's workflow belongs to {own['tenant_id']!r} (agent_id {own['agent_id']!r})"
    )
    assert [n["name"] for n in own["nodes"]] == ["Collect invoices", "Pay supplier"]
