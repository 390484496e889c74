"""The SSE generator: replay from the store, then live events, keep-alives, and lag handling."""

from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI

from talkative.events import service
from talkative.events.router import EventStreamResponse, stream_events
from talkative.events.schemas import NewEvent


async def _store(app: FastAPI, *types: str, tenant: str = "t1") -> list[int]:
    async with app.state.sessionmaker() as session, session.begin():
        stored = await service.append(
            session, [NewEvent(type=t, tenant_id=tenant, agent_id="a") for t in types]
        )
    return [e.id for e in stored]


def _data(chunk: bytes) -> dict[str, object]:
    line = next(part for part in chunk.decode().splitlines() if part.startswith("data: "))
    return json.loads(line[6:])  # type: ignore[no-any-return]


async def test_replays_then_streams_live_with_keepalives(app: FastAPI) -> None:
    first, second = await _store(app, "OLD_1", "OLD_2")
    stream = stream_events(
        subscription=app.state.bus.subscribe("t1"),
        sessionmaker=app.state.sessionmaker,
        tenant_id="t1",
        last_id=first,
        keepalive_s=0.05,
    )
    assert (await anext(stream)).startswith(b"retry:")
    replayed = await anext(stream)
    assert replayed.startswith(b"id: %d\n" % second) and _data(replayed)["type"] == "OLD_2"
    assert (await anext(stream)) == b": keep-alive\n\n"
    (live_id,) = await _store(app, "LIVE")
    await _store(app, "OTHER_TENANT", tenant="t2")
    chunk = await anext(stream)
    while chunk.startswith(b":"):
        chunk = await anext(stream)
    assert chunk.startswith(b"id: %d\n" % live_id) and _data(chunk)["type"] == "LIVE"
    await stream.aclose()
    assert app.state.bus.subscriber_count == 0


async def test_lagging_subscriber_is_told_to_reconnect(app: FastAPI) -> None:
    subscription = app.state.bus.subscribe(None, buffer=1)
    stream = stream_events(
        subscription=subscription,
        sessionmaker=app.state.sessionmaker,
        tenant_id=None,
        last_id=10**9,
        keepalive_s=5,
    )
    await anext(stream)  # subscribed and replayed nothing
    await _store(app, "A", "B", "C")
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].startswith(b": too far behind")


async def test_resume_positions_beyond_64_bits_are_refused(client: object, auth: object) -> None:
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    response = await client.get("/events", params={"after": 2**63}, headers=auth())  # type: ignore[operator]
    assert response.status_code == 422 and response.json()["code"] == "VALIDATION_ERROR"


async def test_a_stream_that_never_started_still_unsubscribes(app: FastAPI) -> None:
    subscription = app.state.bus.subscribe(None)
    stream = stream_events(
        subscription=subscription,
        sessionmaker=app.state.sessionmaker,
        tenant_id=None,
        last_id=0,
        keepalive_s=5,
    )
    response = EventStreamResponse(stream, on_disconnect=subscription.close, headers={})

    async def receive() -> dict[str, object]:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(_: object) -> None:
        raise OSError("the client went away before the first byte")

    await response({"type": "http"}, receive, send)  # type: ignore[arg-type]
    assert app.state.bus.subscriber_count == 0


async def test_a_tenant_token_cannot_name_another_tenants_stream(client: object, auth: object) -> None:
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    # A stream that wrongly opened would never end: fail in seconds instead of hanging.
    response = await asyncio.wait_for(
        client.get(
            "/events",
            params={"tenant_id": "tenant-b", "agent_id": "twin"},
            headers=auth("viewer", "tenant-a"),  # type: ignore[operator]
        ),
        timeout=10,
    )
    assert response.status_code == 403 and response.json()["code"] == "TENANT_MISMATCH"
