"""PATCH /agents/{id}: bounded settings, operator role, tenant from the token."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from talkative.workspaces import resolve

Auth = Callable[..., dict[str, str]]


async def _agent(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await client.post("/agents", json={"id": "beat", "name": "Beat"}, headers=auth())
    assert response.status_code == 201, response.text


async def test_operator_changes_interval_and_name(
    client: httpx.AsyncClient, auth: Auth, app: FastAPI
) -> None:
    await _agent(client, auth)
    response = await client.patch("/agents/beat", json={"heartbeatMinutes": 5}, headers=auth())
    assert response.status_code == 200, response.text
    assert (response.json()["heartbeatMinutes"], response.json()["name"]) == (5, "Beat")
    renamed = await client.patch("/agents/beat", json={"name": "  Pulse "}, headers=auth("admin"))
    assert (renamed.json()["heartbeatMinutes"], renamed.json()["name"]) == (5, "Pulse")
    fetched = await client.get("/agents/beat", headers=auth("viewer"))
    assert fetched.json()["heartbeatMinutes"] == 5
    workspace = resolve(app.state.settings.workspaces_dir, fetched.json()["workspace"])
    assert json.loads((workspace / "config.json").read_text())["heartbeatMinutes"] == 5


async def test_running_agent_is_rescheduled(client: httpx.AsyncClient, auth: Auth) -> None:
    await _agent(client, auth)
    assert (await client.post("/agents/beat/start", headers=auth())).status_code == 200
    response = await client.patch("/agents/beat", json={"heartbeatMinutes": 1}, headers=auth())
    assert response.status_code == 200 and response.json()["status"] == "running"
    assert response.json()["heartbeatMinutes"] == 1


async def test_viewer_cannot_change(client: httpx.AsyncClient, auth: Auth) -> None:
    await _agent(client, auth)
    response = await client.patch("/agents/beat", json={"heartbeatMinutes": 5}, headers=auth("viewer"))
    assert response.status_code == 403
    assert (await client.get("/agents/beat", headers=auth())).json()["heartbeatMinutes"] == 30


async def test_other_tenant_cannot_change(client: httpx.AsyncClient, auth: Auth) -> None:
    await _agent(client, auth)
    response = await client.patch(
        "/agents/beat", json={"heartbeatMinutes": 5}, headers=auth("admin", "tenant-b")
    )
    assert response.status_code == 404 and response.json()["code"] == "AGENT_NOT_FOUND"
    widened = await client.patch(
        "/agents/beat",
        params={"tenant_id": "tenant-a"},
        json={"heartbeatMinutes": 5},
        headers=auth("operator", "tenant-b"),
    )
    assert widened.status_code in {403, 404}
    assert (await client.get("/agents/beat", headers=auth())).json()["heartbeatMinutes"] == 30


@pytest.mark.parametrize(
    "payload",
    [
        {"heartbeatMinutes": 0},
        {"heartbeatMinutes": 7 * 24 * 60 + 1},
        {"heartbeatMinutes": "often"},
        {"heartbeatMinutes": 1.5},
        {"name": ""},
        {"name": "x" * 201},
        {"status": "running"},
        {"tenant_id": "tenant-b"},
        {"workspace": "../other"},
    ],
)
async def test_bad_changes_are_422(client: httpx.AsyncClient, auth: Auth, payload: dict[str, object]) -> None:
    await _agent(client, auth)
    response = await client.patch("/agents/beat", json=payload, headers=auth())
    assert response.status_code == 422, response.text
    after = (await client.get("/agents/beat", headers=auth())).json()
    assert (after["heartbeatMinutes"], after["name"], after["tenant_id"]) == (30, "Beat", "tenant-a")


async def test_a_change_is_recorded_once(client: httpx.AsyncClient, auth: Auth) -> None:
    await _agent(client, auth)
    await client.patch("/agents/beat", json={"heartbeatMinutes": 12}, headers=auth())
    same = await client.patch("/agents/beat", json={"heartbeatMinutes": 12, "name": "Beat"}, headers=auth())
    assert same.status_code == 200
    trail = (await client.get("/agents/beat/events", headers=auth("viewer"))).json()["events"]
    updates = [e for e in trail if e["type"] == "AGENT_UPDATED"]
    assert len(updates) == 1
    assert updates[0]["payload"] == {"heartbeatMinutes": {"from": 30, "to": 12}}
