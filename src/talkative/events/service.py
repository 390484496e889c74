"""The event store: append inside the caller's unit of work, read tails and replays by index."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from sqlalchemy import BindParameter, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import core_execute, utcnow
from talkative.events import outbox
from talkative.events.models import EventRow
from talkative.events.schemas import Event, NewEvent
from talkative.input.strict import renderable

PRUNE_BATCH = 1000
log = logging.getLogger("talkative.events")


def to_event(row: EventRow) -> Event:
    return Event(
        id=row.id,
        type=row.type,
        tenant_id=row.tenant_id,
        agent_id=row.agent_id,
        run_id=row.run_id,
        message=row.message,
        payload=row.payload,
        timestamp=row.created_at,
    )


def to_events(rows: Iterable[EventRow]) -> list[Event]:
    """The rows as events, leaving out (and logging) any whose payload cannot be rendered: one bad
    row must not fail every read of the agent's or the run's history."""
    events = []
    for row in rows:
        if renderable(row.payload):
            events.append(to_event(row))
        else:
            log.warning("event %s (%s) skipped: its payload cannot be rendered as JSON", row.id, row.type)
    return events


# The hot statements, built once (building one per call cost more than running it).
_INSERT = insert(EventRow).returning(EventRow.id)
_LIMIT: BindParameter[int] = bindparam("limit")
_TAIL = (
    select(EventRow)
    .where(EventRow.tenant_id == bindparam("tenant_id"), EventRow.agent_id == bindparam("agent_id"))
    .order_by(EventRow.id.desc())
    .limit(_LIMIT)
)
_FOR_RUN = select(EventRow).where(EventRow.run_id == bindparam("run_id")).order_by(EventRow.id).limit(_LIMIT)
_AFTER = select(EventRow).where(EventRow.id > bindparam("after_id")).order_by(EventRow.id).limit(_LIMIT)
_AFTER_IN_TENANT = _AFTER.where(EventRow.tenant_id == bindparam("tenant_id"))


async def append(session: AsyncSession, events: Sequence[NewEvent]) -> list[Event]:
    """Stores events in the caller's transaction; they are published only after it commits.

    One multi-row INSERT (the ORM would send one statement per event, since SQLite cannot promise
    the order of RETURNING rows). Ids are handed out in VALUES order, so the returned ids, sorted,
    belong to the events in the order given.
    """
    if not events:
        return []
    now = utcnow()
    values = [
        {
            "tenant_id": e.tenant_id,
            "agent_id": e.agent_id,
            "run_id": e.run_id,
            "type": str(e.type),
            "message": e.message,
            "payload": e.payload,
            "created_at": now,
        }
        for e in events
    ]
    # executemany form: the statement compiles once and is cached, and SQLAlchemy still sends
    # one multi-row INSERT (its "insertmanyvalues"), in batches of `insertmanyvalues_page_size`.
    result = await core_execute(session, _INSERT, values)
    ids = sorted(result.scalars().all())
    stored = [
        Event.model_construct(  # already validated as NewEvents
            id=event_id,
            type=str(e.type),
            tenant_id=e.tenant_id,
            agent_id=e.agent_id,
            run_id=e.run_id,
            message=e.message,
            payload=e.payload,
            timestamp=now,
        )
        for event_id, e in zip(ids, events, strict=True)
    ]
    outbox.stage(session, stored)
    return stored


async def tail(session: AsyncSession, *, tenant_id: str, agent_id: str, limit: int) -> list[Event]:
    """The agent's newest events, oldest first: an index range scan, whatever the history size.

    An agent is (tenant, id): another tenant's agent of the same id, or a deleted one whose id was
    taken again elsewhere, is not this agent."""
    params = {"tenant_id": tenant_id, "agent_id": agent_id, "limit": limit}
    rows = (await session.scalars(_TAIL, params)).all()
    return to_events(reversed(rows))


async def for_run(session: AsyncSession, *, run_id: str, limit: int = 1000) -> list[Event]:
    rows = (await session.scalars(_FOR_RUN, {"run_id": run_id, "limit": limit})).all()
    return to_events(rows)


async def after(session: AsyncSession, *, after_id: int, tenant_id: str | None, limit: int) -> list[Event]:
    """Events with id > after_id in the tenant (all tenants when None), for SSE replay."""
    if tenant_id is None:
        rows = (await session.scalars(_AFTER, {"after_id": after_id, "limit": limit})).all()
    else:
        params = {"after_id": after_id, "limit": limit, "tenant_id": tenant_id}
        rows = (await session.scalars(_AFTER_IN_TENANT, params)).all()
    return [to_event(r) for r in rows]


async def prune_agent(session: AsyncSession, *, tenant_id: str, agent_id: str, keep: int) -> int:
    """Deletes one batch of the agent's events older than its newest `keep`; returns rows deleted.

    Batches keep each write transaction short so pruning never stalls the writers.
    """
    cutoff = await session.scalar(
        select(EventRow.id)
        .where(EventRow.tenant_id == tenant_id, EventRow.agent_id == agent_id)
        .order_by(EventRow.id.desc())
        .offset(keep)
        .limit(1)
    )
    if cutoff is None:
        return 0
    batch = (
        select(EventRow.id)
        .where(EventRow.tenant_id == tenant_id, EventRow.agent_id == agent_id, EventRow.id <= cutoff)
        .order_by(EventRow.id)
        .limit(PRUNE_BATCH)
    )
    result = await session.execute(delete(EventRow).where(EventRow.id.in_(batch)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def latest_id(session: AsyncSession, *, tenant_id: str | None) -> int:
    """The stream position a new subscriber starts from (it sees only what comes next)."""
    query = select(EventRow.id).order_by(EventRow.id.desc()).limit(1)
    if tenant_id is not None:
        query = query.where(EventRow.tenant_id == tenant_id)
    return int(await session.scalar(query) or 0)
