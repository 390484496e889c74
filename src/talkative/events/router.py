"""GET /events: Server-Sent Events with replay from the store (Last-Event-ID) and tenant scoping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Receive, Scope, Send

from talkative.auth.dependencies import Reader, require
from talkative.auth.policy import Permission
from talkative.auth.principal import Principal
from talkative.db import Session
from talkative.errors import ERROR_RESPONSES, InvalidInput
from talkative.events import positions, service
from talkative.events.bus import Delivery, SubscriberLagged, Subscription
from talkative.events.params import BeforePosition
from talkative.events.positions import MAX_TEXT, Position
from talkative.events.schemas import Event, EventPage

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)
StreamReader = Annotated[Principal, Depends(require(Permission.READ, allow_query_token=True))]
REPLAY_PAGE = 500
log = logging.getLogger("talkative.events")


def format_sse(event: Event) -> bytes:
    """The SSE frame of one event. One that cannot be rendered (a stored payload nested too deep,
    say) is logged and sent as its id alone: the stream goes on, and a client that reconnects
    resumes after it (an SSE frame without data moves Last-Event-ID and dispatches nothing)."""
    try:
        data = event.model_dump_json().encode()
    except ValueError:  # pydantic's PydanticSerializationError included
        log.warning(
            "event %s (%s) skipped on the stream: it cannot be rendered as JSON", event.id, event.type
        )
        return b"id: %s\n: skipped, cannot be rendered\n\n" % event.position.encode()
    return b"id: %s\ndata: %s\n\n" % (event.position.encode(), data)


def _frame(delivery: Delivery) -> bytes:
    """A live event's frame, encoded once however many subscribers send it."""
    if delivery.frame is None:
        delivery.frame = format_sse(delivery.event)
    return delivery.frame


async def stream_events(
    *,
    subscription: Subscription,
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str | None,
    after: Position,
    keepalive_s: float,
    agent_id: str | None = None,
) -> AsyncGenerator[bytes]:
    """Replays the store after `after`, then the subscription's live events. `subscription` is
    taken (and closed at the end) by the caller's stream: subscribe before calling, so nothing
    committed meanwhile falls between the replay and the live part (what both bring is sent once:
    positions only go forward)."""
    last = after
    try:
        yield b"retry: 2000\n: connected, replaying after %s\n\n" % str(last).encode()
        while True:
            async with sessionmaker() as session:
                page = await service.after(session, position=last, tenant_id=tenant_id, limit=REPLAY_PAGE)
            for event in page:
                last = positions.at(event.position)
                if agent_id is None or event.agent_id == agent_id:
                    yield format_sse(event)
            if len(page) < REPLAY_PAGE:
                break
        while not subscription.closed:
            try:
                live = await subscription.batch(keepalive_s)
            except SubscriberLagged:
                yield b": too far behind; reconnect to replay\n\n"
                return
            if live is None:
                if not subscription.closed:
                    yield b": keep-alive\n\n"
                continue
            # Everything already queued goes out in one write.
            frames = []
            for delivery in live:
                if delivery.position > last:
                    last = delivery.position
                    if agent_id is None or delivery.event.agent_id == agent_id:
                        frames.append(_frame(delivery))
            if frames:
                yield b"".join(frames)
    finally:
        subscription.close()


class EventStreamResponse(StreamingResponse):
    """SSE over plain ASGI: each chunk goes out as the stream yields it, and one small task ends
    the stream when the client leaves. (StreamingResponse's task group per connection and its
    encoding of every chunk cost more than the fan-out itself at a thousand subscribers.)"""

    media_type = "text/event-stream"

    def __init__(
        self, frames: AsyncGenerator[bytes], *, on_disconnect: Callable[[], None], headers: dict[str, str]
    ) -> None:
        super().__init__(frames, headers=headers, media_type=self.media_type)
        self._frames = frames
        self._on_disconnect = on_disconnect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.create_task(self._watch(receive))
        try:
            start = {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            await send(start)
            async for chunk in self._frames:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away mid-write
            pass
        finally:
            watcher.cancel()
            await self._frames.aclose()
            self._on_disconnect()  # also when the stream never started (its own cleanup never ran)

    async def _watch(self, receive: Receive) -> None:
        try:
            while (await receive())["type"] != "http.disconnect":
                pass
        finally:
            self._on_disconnect()  # wakes the stream, which then ends


@router.get("/events/history", operation_id="getEventHistory")
async def event_history(
    session: Session,
    principal: Reader,
    before: BeforePosition = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many events")] = 100,
    agent_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    type: Annotated[str | None, Query(min_length=1, max_length=64, description="One event type")] = None,
    tenant_id: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="A platform admin's choice of one tenant"),
    ] = None,
) -> EventPage:
    """The event log of the caller's tenant, newest page first, each page oldest first.

    In the SSE stream's order: load the newest page, open `GET /events?after=<live_after>` to go on
    live with nothing missed (drop by id the few events it may repeat), and page backwards with
    `before=next_before` while `has_more`."""
    start = None if before is None else await service.position_before(session, before)
    found = await service.history(
        session,
        tenant_id=principal.scope_for(tenant_id),
        agent_id=agent_id,
        type_=type,
        before=start,
        limit=limit,
    )
    return service.page(found)


@router.get(
    "/events",
    operation_id="streamEvents",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless SSE stream"}},
)
async def events(
    request: Request,
    principal: StreamReader,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=MAX_TEXT)] = None,
    after: Annotated[
        str | None,
        Query(
            max_length=MAX_TEXT,
            pattern=positions.PATTERN,
            description="Replay events after this position (an event's `position`, or its id)",
        ),
    ] = None,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    tenant_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="A platform admin's choice of one tenant (with `agent_id`: that tenant's agent)",
        ),
    ] = None,
    access_token: Annotated[
        str | None, Query(description="Token for EventSource clients that cannot set headers")
    ] = None,
) -> StreamingResponse:
    """Every event of the caller's tenant as it is committed; resumes after `Last-Event-ID`."""
    state = request.app.state
    scope = principal.scope_for(tenant_id)  # a tenant's token may only name its own tenant
    async with state.sessionmaker() as session:
        start = await service.resume_from(session, after or last_event_id or "")
        if start is None and after is not None:
            raise InvalidInput(f"'after' is not a stream position: {after}")
        # An unreadable Last-Event-ID (not one of ours) is ignored: the stream starts from now.
        start = start if start is not None else await service.head(session)
    subscription = state.bus.subscribe(scope)
    stream = stream_events(
        subscription=subscription,
        sessionmaker=state.sessionmaker,
        tenant_id=scope,
        after=start,
        keepalive_s=state.settings.sse_keepalive_s,
        agent_id=agent_id,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return EventStreamResponse(stream, on_disconnect=subscription.close, headers=headers)
