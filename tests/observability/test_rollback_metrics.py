"""The metrics the rollback triggers watch (docs/runbook.md): the critical loop by outcome and its
latency, 5xx responses by route template, and authentication/authorisation refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import send_message

LOOP = "talkative_critical_loop_total"
MESSAGE = {"method": "POST", "endpoint": "/agents/{agent_id}/message"}


async def _metrics(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = (await client.get("/metrics")).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _moved(
    before: dict[tuple[str, frozenset[tuple[str, str]]], float],
    after: dict[tuple[str, frozenset[tuple[str, str]]], float],
    name: str,
    **labels: str,
) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_every_series_exists_from_the_start(client: httpx.AsyncClient) -> None:
    metrics = await _metrics(client)
    for outcome in ("ok", "no_patch", "no_events", "error"):
        assert (LOOP, frozenset({("outcome", outcome)})) in metrics
    for status in ("401", "403"):
        assert ("talkative_auth_failures_total", frozenset({("status", status)})) in metrics


async def test_messages_are_counted_ok_and_timed(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "looped")
    before = await _metrics(client)
    await send_message(client, auth(), "looped", "collect invoices, then email the client")
    # A repeated message leaves the workflow as it is, and a meta-request adds no node: both are ok.
    await send_message(client, auth(), "looped", "collect invoices, then email the client")
    await send_message(client, auth(), "looped", "run heartbeat now")
    after = await _metrics(client)
    assert _moved(before, after, LOOP, outcome="ok") == 3
    for outcome in ("no_patch", "no_events", "error"):
        assert _moved(before, after, LOOP, outcome=outcome) == 0
    assert _moved(before, after, "talkative_critical_loop_duration_seconds_count") == 3
    assert _moved(before, after, "talkative_critical_loop_duration_seconds_sum") > 0


async def test_refusals_are_counted_by_status_and_not_as_loop_outcomes(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "guarded")
    before = await _metrics(client)
    body = {"message": "collect invoices"}
    unsigned = await client.post("/agents/guarded/message", json=body)
    forged = await client.post("/agents/guarded/message", json=body, headers={"Authorization": "Bearer x"})
    viewer = await client.post("/agents/guarded/message", json=body, headers=auth("viewer"))
    stopped = await client.post("/agents/guarded/stop", headers=auth())
    refused = await client.post("/agents/guarded/message", json=body, headers=auth())
    assert [r.status_code for r in (unsigned, forged, viewer, stopped, refused)] == [401, 401, 403, 200, 409]
    after = await _metrics(client)
    assert _moved(before, after, "talkative_auth_failures_total", status="401") == 2
    assert _moved(before, after, "talkative_auth_failures_total", status="403") == 1
    assert sum(_moved(before, after, LOOP, outcome=o) for o in ("ok", "no_patch", "no_events", "error")) == 0
    assert _moved(before, after, "talkative_http_server_errors_total", **MESSAGE) == 0


@asynccontextmanager
async def _events_table_gone(settings: Settings) -> AsyncIterator[None]:
    """The events table renamed away under the running server (as a botched migration would)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        import aiosqlite

        async def run(sql: str) -> None:
            async with aiosqlite.connect(str(url.database)) as db:
                await db.execute(sql)
                await db.commit()
    else:

        async def run(sql: str) -> None:
            conn = await asyncpg.connect(
                url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

    await run("ALTER TABLE events RENAME TO events_gone")
    try:
        yield
    finally:
        await run("ALTER TABLE events_gone RENAME TO events")


async def test_a_failing_loop_counts_an_error_and_a_server_error(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await running_agent(client, auth(), "broken")
    before = await _metrics(client)
    # As a real server answers: the 500 is the response (the ASGI transport would re-raise instead).
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    http = httpx.AsyncClient(transport=transport, base_url="http://talkative.test")
    async with http, _events_table_gone(settings):
        failed = await http.post("/agents/broken/message", json={"message": "collect"}, headers=auth())
    assert failed.status_code == 500 and failed.json()["code"] == "INTERNAL", failed.text
    after = await _metrics(client)
    assert _moved(before, after, LOOP, outcome="error") == 1
    assert _moved(before, after, LOOP, outcome="ok") == 0
    assert _moved(before, after, "talkative_http_server_errors_total", **MESSAGE) == 1
    # ... and the loop works again once the table is back.
    await send_message(client, auth(), "broken", "collect invoices")
    assert _moved(after, await _metrics(client), LOOP, outcome="ok") == 1
