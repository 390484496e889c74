"""The event store: append inside the caller's unit of work, read tails and replays by index."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    BindParameter,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import core_execute, utcnow
from talkative.errors import InvalidInput
from talkative.events import outbox, positions
from talkative.events.models import EventRow
from talkative.events.positions import START, Position
from talkative.events.schemas import Event, EventPage, NewEvent
from talkative.input.strict import renderable

PRUNE_BATCH = 1000
log = logging.getLogger("talkative.events")


def to_event(row: EventRow) -> Event:
    return Event(
        id=row.id,
        position=str(Position(row.xact, row.id)),
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
_INSERT = insert(EventRow).returning(EventRow.id, EventRow.xact, EventRow.created_at)
# On PostgreSQL the time is the database's (one clock for every process); each row's xact is set
# by the column's default.
_INSERT_PG = (
    insert(EventRow)
    .values(created_at=func.statement_timestamp())
    .returning(EventRow.id, EventRow.xact, EventRow.created_at)
)
_LIMIT: BindParameter[int] = bindparam("limit")
_TAIL = (
    select(EventRow)
    .where(EventRow.tenant_id == bindparam("tenant_id"), EventRow.agent_id == bindparam("agent_id"))
    .order_by(EventRow.id.desc())
    .limit(_LIMIT)
)
_FOR_RUN = select(EventRow).where(EventRow.run_id == bindparam("run_id")).order_by(EventRow.id).limit(_LIMIT)
# Events after a position, in position order. On PostgreSQL only those whose transaction is older
# than this statement's snapshot xmin: any transaction that may still commit has a larger id than
# everything served (events/positions.py).
_HORIZON = cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), String), BigInteger)
_PAST = tuple_(EventRow.xact, EventRow.id) > tuple_(bindparam("xact"), bindparam("after_id"))
_AFTER = select(EventRow).where(_PAST).order_by(EventRow.xact, EventRow.id).limit(_LIMIT)
_IN_TENANT = EventRow.tenant_id == bindparam("tenant_id")
_AFTER_BY = {  # (on PostgreSQL, in one tenant)
    (False, False): _AFTER,
    (False, True): _AFTER.where(_IN_TENANT),
    (True, False): _AFTER.where(EventRow.xact < _HORIZON),
    (True, True): _AFTER.where(EventRow.xact < _HORIZON, _IN_TENANT),
}
_HEAD = select(EventRow.xact, EventRow.id).order_by(EventRow.xact.desc(), EventRow.id.desc()).limit(1)


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def append(session: AsyncSession, events: Sequence[NewEvent]) -> list[Event]:
    """Stores events in the caller's transaction; they are published only after it commits.

    One multi-row INSERT (the ORM would send one statement per event, since SQLite cannot promise
    the order of RETURNING rows). Ids are handed out in VALUES order, so the returned ids, sorted,
    belong to the events in the order given.
    """
    if not events:
        return []
    postgresql = _postgresql(session)
    now = utcnow()
    values = [
        {
            "tenant_id": e.tenant_id,
            "agent_id": e.agent_id,
            "run_id": e.run_id,
            "type": str(e.type),
            "message": e.message,
            "payload": e.payload,
        }
        | ({} if postgresql else {"created_at": now})
        for e in events
    ]
    # executemany form: the statement compiles once and is cached, and SQLAlchemy still sends
    # one multi-row INSERT (its "insertmanyvalues"), in batches of `insertmanyvalues_page_size`.
    result = await core_execute(session, _INSERT_PG if postgresql else _INSERT, values)
    rows = sorted(result.all())
    stored = [
        Event.model_construct(  # already validated as NewEvents
            id=event_id,
            position=str(Position(xact, event_id)),
            type=str(e.type),
            tenant_id=e.tenant_id,
            agent_id=e.agent_id,
            run_id=e.run_id,
            message=e.message,
            payload=e.payload,
            timestamp=created_at,
        )
        for (event_id, xact, created_at), e in zip(rows, events, strict=True)
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


@dataclass(frozen=True)
class History:
    """A page of history: `events` oldest first, all before `before` (None: nothing older)."""

    events: list[Event]
    before: Position | None
    live_after: Position | None


async def history(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    limit: int,
    before: Position | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    type_: str | None = None,
) -> History:
    """The newest `limit` events before `before` in stream order (tenant None: every tenant).

    Without `before`, every committed event is a candidate (a caller reads its own writes), and
    `live_after` is the stream's head read first: the stream opened with `?after=<live_after>`
    brings everything committed after this page, and may repeat the few events of the page that
    are past it (on PostgreSQL, those committed while an older transaction was still open): a
    client drops events by id it already has. Walks ix_events_tenant_agent_position,
    ix_events_tenant_position or ix_events_position backwards; a run's events come from
    ix_events_run_id_id."""
    live_after = await head(session) if before is None else None
    query = select(EventRow).order_by(EventRow.xact.desc(), EventRow.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(tuple_(EventRow.xact, EventRow.id) < tuple_(before.xact, before.id))
    if tenant_id is not None:
        query = query.where(EventRow.tenant_id == tenant_id)
    if agent_id is not None:
        query = query.where(EventRow.agent_id == agent_id)
    if run_id is not None:
        query = query.where(EventRow.run_id == run_id)
    if type_ is not None:
        query = query.where(EventRow.type == type_)
    rows = list((await session.scalars(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    oldest = Position(rows[-1].xact, rows[-1].id) if more else None
    return History(events=to_events(reversed(rows)), before=oldest, live_after=live_after)


async def for_run(session: AsyncSession, *, run_id: str, limit: int = 1000) -> list[Event]:
    rows = (await session.scalars(_FOR_RUN, {"run_id": run_id, "limit": limit})).all()
    return to_events(rows)


async def after(
    session: AsyncSession, *, position: Position, tenant_id: str | None, limit: int
) -> list[Event]:
    """Committed events after `position` in stream order, in the tenant (all tenants when None):
    for SSE replay and for the bus's tail on PostgreSQL."""
    query = _AFTER_BY[_postgresql(session), tenant_id is not None]
    params = {"xact": position.xact, "after_id": position.id, "limit": limit, "tenant_id": tenant_id}
    rows = (await session.scalars(query, params)).all()
    return [to_event(r) for r in rows]


async def first_after(
    session: AsyncSession, *, position: Position, tenant_id: str, types: Sequence[str]
) -> EventRow | None:
    """The first committed event of `types` after `position` in the tenant: where a delivery that
    reads the log (webhooks, approval mail) goes on from its cursor."""
    query = (
        select(EventRow)
        .where(EventRow.tenant_id == tenant_id, EventRow.type.in_(types), _PAST)
        .order_by(EventRow.xact, EventRow.id)
        .limit(1)
    )
    if _postgresql(session):
        query = query.where(EventRow.xact < _HORIZON)
    params = {"xact": position.xact, "after_id": position.id}
    return (await session.scalars(query, params)).first()


async def head(session: AsyncSession) -> Position:
    """The newest position a reader may be served now: a new subscriber starts there (it sees only
    what comes next). Positions are global, so one head serves every tenant's stream."""
    query = _HEAD.where(EventRow.xact < _HORIZON) if _postgresql(session) else _HEAD
    row = (await session.execute(query)).first()
    return START if row is None else Position(*row)


async def resume_from(session: AsyncSession, text: str) -> Position | None:
    """The position a client's Last-Event-ID or `?after=` names; None if it names none.

    "xact.id" is a position as sent. A plain id is one too on SQLite; on PostgreSQL it is an event
    id (from a listing, or from a client of an older version) whose transaction is looked up: if
    that event is gone (pruned), the stream resumes before every event with a larger id, which may
    repeat some but skips none."""
    parsed = positions.parse(text)
    if parsed is None:
        return None
    position, named = parsed
    if named or not _postgresql(session):
        return position
    xact = await session.scalar(select(EventRow.xact).where(EventRow.id == position.id))
    if xact is None:
        xact = await session.scalar(select(func.min(EventRow.xact)).where(EventRow.id > position.id))
        return Position(xact, 0) if xact is not None else await head(session)
    return Position(xact, position.id)


async def position_before(session: AsyncSession, text: str) -> Position:
    """The position a `before` parameter names (422 if none): an event's position, or its id."""
    position = await resume_from(session, text)
    if position is None:
        raise InvalidInput(f"'before' is not a stream position: {text}")
    return position


def page(found: History) -> EventPage:
    return EventPage(
        events=found.events,
        has_more=found.before is not None,
        next_before=None if found.before is None else str(found.before),
        live_after=None if found.live_after is None else str(found.live_after),
    )


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
