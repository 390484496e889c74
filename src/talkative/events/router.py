"""GET /events: Server-Sent Events with replay from the store (Last-Event-ID) and tenant scoping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.auth.dependencies import require
from talkative.auth.policy import Permission
from talkative.auth.principal import Principal
from talkative.errors import ERROR_RESPONSES
from talkative.events import service
from talkative.events.bus import EventBus, SubscriberLagged
from talkative.events.schemas import Event

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)
StreamReader = Annotated[Principal, Depends(require(Permission.READ, allow_query_token=True))]
REPLAY_PAGE = 500
MAX_EVENT_ID = 2**63 - 1  # ids are 64-bit in the store


def format_sse(event: Event) -> str:
    """The event's SSE frame, encoded once however many subscribers send it."""
    if event._sse_frame is None:
        event._sse_frame = f"id: {event.id}\ndata: {event.model_dump_json()}\n\n"
    return event._sse_frame


async def stream_events(
    *,
    bus: EventBus,
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: str | None,
    last_id: int,
    keepalive_s: float,
    agent_id: str | None = None,
) -> AsyncIterator[str]:
    # Subscribe before replaying so nothing committed meanwhile falls between the two.
    subscription = bus.subscribe(tenant_id)
    try:
        yield f"retry: 2000\n: connected, replaying after {last_id}\n\n"
        while True:
            async with sessionmaker() as session:
                page = await service.after(session, after_id=last_id, tenant_id=tenant_id, limit=REPLAY_PAGE)
            for event in page:
                last_id = event.id
                if agent_id is None or event.agent_id == agent_id:
                    yield format_sse(event)
            if len(page) < REPLAY_PAGE:
                break
        while True:
            try:
                live = await subscription.next(keepalive_s)
            except SubscriberLagged:
                yield ": too far behind; reconnect to replay\n\n"
                return
            if live is None:
                yield ": keep-alive\n\n"
                continue
            # Whatever else is already queued goes out in the same write.
            frames = []
            for event in (live, *subscription.ready()):
                if event.id > last_id:
                    last_id = event.id
                    if agent_id is None or event.agent_id == agent_id:
                        frames.append(format_sse(event))
            if frames:
                yield "".join(frames)
    finally:
        subscription.close()


@router.get(
    "/events",
    operation_id="streamEvents",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless SSE stream"}},
)
async def events(
    request: Request,
    principal: StreamReader,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=32)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_EVENT_ID, description="Replay events after this id")
    ] = None,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    access_token: Annotated[
        str | None, Query(description="Token for EventSource clients that cannot set headers")
    ] = None,
) -> StreamingResponse:
    """Every event of the caller's tenant as it is committed; resumes after `Last-Event-ID`."""
    state = request.app.state
    start = after
    if start is None:
        start = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
        start = None if start is not None and start > MAX_EVENT_ID else start
    if start is None:
        async with state.sessionmaker() as session:
            start = await service.latest_id(session, tenant_id=principal.tenant_filter)
    stream = stream_events(
        bus=state.bus,
        sessionmaker=state.sessionmaker,
        tenant_id=principal.tenant_filter,
        last_id=start,
        keepalive_s=state.settings.sse_keepalive_s,
        agent_id=agent_id,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
