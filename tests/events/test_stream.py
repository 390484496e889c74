"""The SSE generator: replay from the store, then live events, keep-alives, and lag handling."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Message

from talkative.events import service
from talkative.events.positions import START, Position, at
from talkative.events.router import EventStreamResponse, stream_events
from talkative.events.schemas import NewEvent
from tests.factories import Auth, Headers
from tests.waiting import eventually, within


async def _store(app: FastAPI, *types: str, tenant: str = "t1", agent: str = "a") -> list[str]:
    async with app.state.sessionmaker() as session, session.begin():
        stored = await service.append(
            session, [NewEvent(type=t, tenant_id=tenant, agent_id=agent) for t in types]
        )
    return [e.position for e in stored]


class _Stream:
    """What a client of `GET /events` has received so far: its frames, and the events in them."""

    def __init__(self) -> None:
        self.received = b""

    @property
    def events(self) -> list[dict[str, Any]]:
        frames = self.received.split(b"\n\n")[:-1]  # the last one may be incomplete
        lines = (line for frame in frames for line in frame.decode().splitlines())
        return [json.loads(line[6:]) for line in lines if line.startswith("data: ")]

    async def until(self, seen: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
        def arrived() -> list[dict[str, Any]] | None:
            events = self.events
            return events if seen(events) else None

        return await eventually(arrived, what=lambda: f"never arrived; got {self.events}")


@contextlib.asynccontextmanager
async def _get_events(app: FastAPI, query: str, headers: Headers) -> AsyncIterator[_Stream]:
    """`GET /events?{query}` through the whole app, read as it streams (httpx's in-process
    transport would wait for the end of an endless response); the client leaves at the end."""
    stream, leaving = _Stream(), asyncio.Event()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await leaving.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message
        else:
            stream.received += message.get("body", b"")

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/events", "raw_path": b"/events", "query_string": query.encode(),
        "root_path": "", "server": ("talkative.test", 80), "client": ("127.0.0.1", 50000),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }  # fmt: skip
    serving = asyncio.create_task(app(scope, receive, send))
    try:
        yield stream
    finally:
        leaving.set()
        await within(serving, what="the stream did not end when its client left")


def _data(chunk: bytes) -> dict[str, object]:
    line = next(part for part in chunk.decode().splitlines() if part.startswith("data: "))
    return json.loads(line[6:])  # type: ignore[no-any-return]


async def test_replays_then_streams_live_with_keepalives(app: FastAPI) -> None:
    first, second = await _store(app, "OLD_1", "OLD_2")
    stream = stream_events(
        subscription=app.state.bus.subscribe("t1"),
        sessionmaker=app.state.sessionmaker,
        tenant_id="t1",
        after=at(first),
        keepalive_s=0.05,
    )
    assert (await anext(stream)).startswith(b"retry:")
    replayed = await anext(stream)
    assert replayed.startswith(b"id: %s\n" % second.encode()) and _data(replayed)["type"] == "OLD_2"
    assert (await anext(stream)) == b": keep-alive\n\n"
    (live_id,) = await _store(app, "LIVE")
    await _store(app, "OTHER_TENANT", tenant="t2")
    chunk = await anext(stream)
    while chunk.startswith(b":"):
        chunk = await anext(stream)
    assert chunk.startswith(b"id: %s\n" % live_id.encode()) and _data(chunk)["type"] == "LIVE"
    await stream.aclose()
    assert app.state.bus.subscriber_count == 0


async def test_lagging_subscriber_is_told_to_reconnect(app: FastAPI) -> None:
    subscription = app.state.bus.subscribe(None, buffer=1)
    stream = stream_events(
        subscription=subscription,
        sessionmaker=app.state.sessionmaker,
        tenant_id=None,
        after=Position(2**62, 0),  # far ahead: nothing to replay
        keepalive_s=5,
    )
    await anext(stream)  # subscribed and replayed nothing
    await _store(app, "A", "B", "C")
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].startswith(b": too far behind")


async def test_resume_positions_beyond_64_bits_are_refused(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await client.get("/events", params={"after": 2**63}, headers=auth())
    assert response.status_code == 422 and response.json()["code"] == "VALIDATION_ERROR"


async def test_a_stream_that_never_started_still_unsubscribes(app: FastAPI) -> None:
    subscription = app.state.bus.subscribe(None)
    stream = stream_events(
        subscription=subscription,
        sessionmaker=app.state.sessionmaker,
        tenant_id=None,
        after=START,
        keepalive_s=5,
    )
    response = EventStreamResponse(stream, on_disconnect=subscription.close, headers={})

    async def receive() -> dict[str, object]:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(_: object) -> None:
        raise OSError("the client went away before the first byte")

    await response({"type": "http"}, receive, send)
    assert app.state.bus.subscriber_count == 0


async def test_a_tenant_token_cannot_name_another_tenants_stream(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    # A stream that wrongly opened would never end: fail in seconds instead of hanging.
    response = await asyncio.wait_for(
        client.get(
            "/events",
            params={"tenant_id": "tenant-b", "agent_id": "twin"},
            headers=auth("viewer", "tenant-a"),
        ),
        timeout=10,
    )
    assert response.status_code == 403 and response.json()["code"] == "TENANT_MISMATCH"


async def test_a_stream_narrowed_to_one_agent_carries_only_its_events(app: FastAPI, auth: Auth) -> None:
    def of(events: list[dict[str, Any]], agent: str) -> list[str]:
        return [e["type"] for e in events if e["agent_id"] == agent]

    await _store(app, "A_OLD_1", tenant="tenant-a", agent="alpha")
    await _store(app, "B_OLD", tenant="tenant-a", agent="beta")
    await _store(app, "A_OLD_2", tenant="tenant-a", agent="alpha")
    async with _get_events(app, "agent_id=alpha&after=0", auth("viewer")) as stream:
        replayed = await stream.until(lambda events: "A_OLD_2" in of(events, "alpha"))
        assert [e["type"] for e in replayed] == ["A_OLD_1", "A_OLD_2"], "the replay is narrowed too"
        await _store(app, "B_LIVE", tenant="tenant-a", agent="beta")  # committed first: sent first
        await _store(app, "A_LIVE", tenant="tenant-a", agent="alpha")
        live = await stream.until(lambda events: "A_LIVE" in of(events, "alpha"))
    assert [e["type"] for e in live] == ["A_OLD_1", "A_OLD_2", "A_LIVE"]
    assert app.state.bus.subscriber_count == 0
