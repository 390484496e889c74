"""Health (200/503), Prometheus metrics by route template, request ids."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi import FastAPI

from talkative.db import create_engine

Auth = Callable[..., dict[str, str]]


async def test_health_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True and body["database"] == "ok"
    assert body["service"] == "talkative" and body["version"] and body["revision"]
    assert body["schema_revision"]


async def test_health_503_when_database_unreachable(app: FastAPI, client: httpx.AsyncClient) -> None:
    healthy_engine = app.state.engine
    if healthy_engine.dialect.name == "sqlite":
        broken = create_engine("sqlite+aiosqlite:////nonexistent-dir/for/sure/talkative.db")
    else:
        broken = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", timeout_s=1)
    app.state.engine = broken
    try:
        response = await client.get("/health")
    finally:
        app.state.engine = healthy_engine
        await broken.dispose()
    assert response.status_code == 503
    assert response.json()["ok"] is False
    assert response.json()["database"].startswith("unreachable")


async def test_metrics_use_route_templates(client: httpx.AsyncClient, auth: Auth) -> None:
    await client.get("/agents/some-agent-that-does-not-exist", headers=auth())
    text = (await client.get("/metrics")).text
    assert (
        'talkative_http_request_duration_ms_bucket{endpoint="/agents/{agent_id}",le="1.0",method="GET"}'
        in text
    )
    assert 'talkative_http_requests_failed_total{endpoint="/agents/{agent_id}",method="GET"}' in text
    assert "some-agent-that-does-not-exist" not in text
    for name in (
        "talkative_agent_runs_total",
        "talkative_tool_calls_total",
        "talkative_tool_failures_total",
        "talkative_router_tokens_total",
        "talkative_router_cost_usd_total",
        "talkative_http_requests_total",
        "talkative_http_request_duration_ms_sum",
    ):
        assert f"# TYPE {name.removesuffix('_total').removesuffix('_sum')}" in text, name


async def test_unmatched_paths_share_one_label(client: httpx.AsyncClient) -> None:
    await client.get("/random/path/12345")
    text = (await client.get("/metrics")).text
    assert "12345" not in text
    assert 'endpoint="<unmatched>"' in text


async def test_request_id_generated_or_echoed(client: httpx.AsyncClient) -> None:
    generated = (await client.get("/health")).headers["x-request-id"]
    again = (await client.get("/health")).headers["x-request-id"]
    assert generated != again and re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", generated)
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    unsafe = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


async def test_metrics_and_health_are_public(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 200
    assert (await client.get("/health")).status_code == 200


async def test_root_serves_the_sign_in_page_publicly(client: httpx.AsyncClient) -> None:
    for path in ("/", "/workflow", "/router-admin", "/fleet", "/agent/some-agent", "/runs", "/runs/some-run"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "text/html" in response.headers["content-type"]
        assert "<title>Talkative</title>" in response.text
    # The agent page is `/agent/{id}`: `/agents/{id}` stays the API, which needs a token.
    assert (await client.get("/agents/some-agent")).status_code == 401
