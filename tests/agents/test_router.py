"""Agents registry over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

Auth = Callable[..., dict[str, str]]


async def test_create_get_list(client: httpx.AsyncClient, auth: Auth) -> None:
    created = await client.post("/agents", json={"name": "Mail Bot"}, headers=auth())
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == body["agent_id"] == "mail-bot"
    assert (body["tenant_id"], body["status"], body["heartbeatMinutes"]) == ("tenant-a", "stopped", 30)
    fetched = await client.get("/agents/mail-bot", headers=auth("viewer"))
    assert fetched.json() == body
    listing = await client.get("/agents", headers=auth("viewer"))
    assert [a["id"] for a in listing.json()["agents"]] == ["mail-bot"]


async def test_explicit_id_and_duplicate_is_409(client: httpx.AsyncClient, auth: Auth) -> None:
    first = await client.post("/agents", json={"id": "books", "name": "Books"}, headers=auth())
    assert first.status_code == 201
    again = await client.post("/agents", json={"id": "books", "name": "Other"}, headers=auth())
    assert again.status_code == 409
    assert again.json()["code"] == "AGENT_EXISTS"


async def test_derived_ids_do_not_collide(client: httpx.AsyncClient, auth: Auth) -> None:
    ids = [
        (await client.post("/agents", json={"name": "Same Name"}, headers=auth())).json()["id"]
        for _ in range(3)
    ]
    assert len(set(ids)) == 3 and ids[0] == "same-name"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {"name": "ok", "id": "Not A Slug"},
        {"name": "ok", "id": "../etc"},
        {"name": "ok", "id": "-leading"},
        {"name": "ok", "heartbeatMinutes": 0},
        {"name": "ok", "unexpected": 1},
        {"name": 42},
    ],
)
async def test_bad_input_is_422(client: httpx.AsyncClient, auth: Auth, payload: dict[str, object]) -> None:
    response = await client.post("/agents", json=payload, headers=auth())
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR" and body["error"]


async def test_malformed_json_is_422(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await client.post(
        "/agents", content=b"{not json", headers={**auth(), "content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_list_limit_returns_newest_last(client: httpx.AsyncClient, auth: Auth) -> None:
    for i in range(5):
        await client.post("/agents", json={"id": f"agent-{i}", "name": f"A{i}"}, headers=auth())
    listing = await client.get("/agents", params={"limit": 2}, headers=auth())
    assert [a["id"] for a in listing.json()["agents"]] == ["agent-3", "agent-4"]
    assert (await client.get("/agents", params={"limit": 0}, headers=auth())).status_code == 422


async def test_unknown_route_and_method_use_error_shape(client: httpx.AsyncClient, auth: Auth) -> None:
    missing = await client.get("/nope", headers=auth())
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    wrong = await client.delete("/agents", headers=auth())
    assert wrong.status_code == 405 and wrong.json()["code"] == "METHOD_NOT_ALLOWED"
    assert wrong.headers["allow"] == "GET, POST"
    # A literal path is its own: `/agents/{agent_id}` (GET, DELETE) also matches it but adds nothing.
    literal = await client.put("/agents/message", headers=auth())
    assert literal.status_code == 405 and literal.headers["allow"] == "POST"


async def test_agents_survive_an_app_restart(client: httpx.AsyncClient, auth: Auth, settings: object) -> None:
    from talkative.main import create_app
    from talkative.settings import Settings

    assert isinstance(settings, Settings)
    await client.post("/agents", json={"id": "durable", "name": "Durable"}, headers=auth())
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
            response = await other.get("/agents/durable", headers=auth())
    assert response.status_code == 200
