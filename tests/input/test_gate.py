"""Bounded input at the door: body size (413), strict JSON, NUL in URLs and integer ranges (422).

Each case was a stored oversized row or a 500 on one database or the other; the fixtures run every
test on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from talkative.input.middleware import DEFAULT_MAX_BODY_BYTES

Auth = Callable[..., dict[str, str]]
MiB = 1024 * 1024
WRITERS = ("/orchestrator/events", "/orchestrator/commands", "/channels/internal/actions")


def _nested(levels: int) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for _ in range(levels - 1):
        payload = {"a": payload}
    return payload


def _body(path: str, payload: dict[str, Any], run_id: str = "") -> dict[str, Any]:
    if path == "/orchestrator/events":
        return {"agent_id": "clerk", "run_id": run_id, "type": "metric_recorded", "payload": payload}
    if path == "/orchestrator/commands":
        return {"agent_id": "clerk", "type": "start_task", "payload": {"text": "collect invoices", **payload}}
    return {"agent_id": "clerk", "action": "note", "payload": payload}


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["error"], body
    return body


async def _nothing_stored(client: httpx.AsyncClient, auth: Auth, run_id: str) -> None:
    actions = (await client.get("/channels/internal/actions", headers=auth())).json()["actions"]
    runs = (await client.get("/orchestrator/runs", headers=auth())).json()["runs"]
    run = (await client.get(f"/orchestrator/runs/{run_id}", headers=auth())).json()
    assert actions == [] and [r["run_id"] for r in runs] == [run_id]
    assert not [s for s in run["steps"] if s["name"].startswith("EXTERNAL_")]


@pytest.mark.parametrize("path", WRITERS)
@pytest.mark.parametrize("size", [MiB, 10 * MiB])
async def test_a_body_over_the_limit_is_413_and_nothing_is_stored(
    client: httpx.AsyncClient, auth: Auth, clerk: str, path: str, size: int
) -> None:
    body = _body(path, {"blob": "x" * size}, clerk)
    body_error = _error(await client.post(path, json=body, headers=auth()), 413, "PAYLOAD_TOO_LARGE")
    assert body_error["max_body_bytes"] == DEFAULT_MAX_BODY_BYTES
    await _nothing_stored(client, auth, clerk)


async def test_a_chunked_body_is_counted_as_it_streams(
    client: httpx.AsyncClient, auth: Auth, clerk: str
) -> None:
    """No Content-Length to trust: the gate counts the chunks themselves."""
    encoded = json.dumps(_body("/channels/internal/actions", {"blob": "x" * (2 * MiB)})).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(encoded), 64 * 1024):
            yield encoded[start : start + 64 * 1024]

    headers = {**auth(), "Content-Type": "application/json"}
    response = await client.post("/channels/internal/actions", content=chunks(), headers=headers)
    assert "content-length" not in response.request.headers
    _error(response, 413, "PAYLOAD_TOO_LARGE")
    await _nothing_stored(client, auth, clerk)


async def test_a_payload_over_64_kib_is_422(client: httpx.AsyncClient, auth: Auth, clerk: str) -> None:
    """Under the body limit, over the payload limit: refused before anything is stored."""
    for path in WRITERS:
        body = _body(path, {"blob": "x" * (65 * 1024)}, clerk)
        _error(await client.post(path, json=body, headers=auth()), 422, "VALIDATION_ERROR")
    await _nothing_stored(client, auth, clerk)


# Raw JSON texts: `json=` in httpx would refuse (NaN) or rewrite (surrogates) some of them.
UNSAFE_VALUES = {
    "nul": '"a\\u0000b"',
    "lone surrogate": '"\\ud800"',
    "NaN": "NaN",
    "Infinity": "-Infinity",
    "1e400": "1e400",
    "2**64": str(2**64),
    "deep": '{"a":' * 299 + "{}" + "}" * 299,
    "very deep": "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("path", WRITERS)
async def test_unsafe_json_in_a_payload_is_422(
    client: httpx.AsyncClient, auth: Auth, clerk: str, path: str
) -> None:
    marker = "__VALUE__"
    headers = {**auth(), "Content-Type": "application/json"}
    for name, value in UNSAFE_VALUES.items():
        text = json.dumps(_body(path, {"k": marker}, clerk)).replace(json.dumps(marker), value)
        response = await client.post(path, content=text, headers=headers)
        assert response.status_code == 422, (name, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
    await _nothing_stored(client, auth, clerk)


async def test_a_nul_or_surrogate_in_a_key_or_field_is_422(client: httpx.AsyncClient, auth: Auth) -> None:
    headers = {**auth(), "Content-Type": "application/json"}
    for text in (
        '{"id": "clerk", "name": "Cl\\u0000erk"}',
        '{"id": "cl\\udc00erk", "name": "Clerk"}',
        '{"id": "clerk", "name": "Clerk", "\\u0000": 1}',
        '{"id": "clerk", "name": "Clerk", "\\udfff": 1}',  # the key is named in the error, escaped
    ):
        _error(await client.post("/agents", content=text, headers=headers), 422, "VALIDATION_ERROR")
    assert (await client.get("/agents", headers=auth())).json()["agents"] == []


async def test_a_nul_in_a_path_id_or_a_query_is_422(client: httpx.AsyncClient, auth: Auth) -> None:
    for url in (
        "/agents/%00",
        "/agents/a%00b/events",
        "/orchestrator/runs/%00",
        "/orchestrator/runs?agent_id=%00",
        "/channels/internal/actions?agent_id=x%00",
        "/approvals?agent_id=%00",
    ):
        _error(await client.get(url, headers=auth()), 422, "VALIDATION_ERROR")
    _error(await client.post("/agents/%00/start", headers=auth()), 422, "VALIDATION_ERROR")


async def test_an_integer_beyond_its_column_is_422(client: httpx.AsyncClient, auth: Auth, clerk: str) -> None:
    for version in (2**64, 2**63 - 1, 2**31):
        body = {"agent_id": "clerk", "version": version}
        _error(await client.post("/prompts/activate", json=body, headers=auth()), 422, "VALIDATION_ERROR")


async def test_a_cap_of_1e400_is_422(client: httpx.AsyncClient, auth: Auth) -> None:
    text = '{"tenants": {"tenant-a": {"daily_cost_cap_usd": 1e400}}}'
    headers = {**auth("admin", None), "Content-Type": "application/json"}
    _error(await client.put("/router/admin/budgets", content=text, headers=headers), 422, "VALIDATION_ERROR")
    budgets = (await client.get("/router/admin/budgets", headers=auth("admin", None))).json()
    assert "tenant-a" not in budgets["tenants"]


async def test_bodies_within_the_limits_still_pass(client: httpx.AsyncClient, auth: Auth, clerk: str) -> None:
    payload = {"note": "ünïcode ✓ \U0001f600", "n": 2**63 - 1, "x": -1.5, "deep": _nested(30)}
    body = _body("/channels/internal/actions", payload)
    response = await client.post("/channels/internal/actions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    listed = (await client.get("/channels/internal/actions", headers=auth())).json()["actions"]
    assert listed[0]["payload"] == payload
