"""Where a new SSE subscriber starts (the newest event of its scope), and what a subscription takes
once it is closed or cut off."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from talkative.events import service as events
from talkative.events.bus import Delivery, LocalEventBus
from talkative.events.positions import START, Position
from talkative.events.schemas import Event, EventType, NewEvent
from tests.events.served import caught_up


async def _head(app: FastAPI) -> Position:
    async with app.state.sessionmaker() as session:
        return await events.head(session)


async def test_on_an_empty_store_a_subscriber_starts_before_the_first_event(app: FastAPI) -> None:
    assert await _head(app) == START
    async with app.state.sessionmaker() as session, session.begin():
        [first] = await events.append(
            session, [NewEvent(type=EventType.METRIC_RECORDED, tenant_id="tenant-a", agent_id="a")]
        )
    # Everything after the start position is streamed: the very first event too.
    await caught_up(app.state.sessionmaker, first)
    async with app.state.sessionmaker() as session:
        replayed = await events.after(session, position=START, tenant_id="tenant-a", limit=10)
    assert [e.id for e in replayed] == [first.id]
    assert str(await _head(app)) == first.position


async def test_the_start_position_reads_one_row_whatever_the_history(app: FastAPI) -> None:
    seen: list[tuple[str, Any]] = []

    def record(_c: object, _cur: object, statement: str, parameters: Any, *_: object) -> None:
        if "FROM events" in statement and "DESC" in statement:  # not the bus's tail (ascending)
            seen.append((statement, parameters))

    engine = app.state.engine
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await _head(app)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert [_limit(statement, parameters) for statement, parameters in seen] == [1]


def _limit(statement: str, parameters: Any) -> Any:
    """The value bound to the statement's LIMIT (`?` on SQLite, `$n` on PostgreSQL)."""
    head, found, tail = statement.partition("LIMIT ")
    assert found, statement
    placeholder = tail.split()[0]
    if placeholder.startswith("$"):
        return list(parameters)[int(placeholder[1:].split(":")[0]) - 1]
    return list(parameters)[head.count("?")]


def _delivery(tenant: str) -> Delivery:
    return Delivery(
        Event(
            id=1, position="1", type="X", tenant_id=tenant, agent_id="a", run_id=None, message="",
            payload={}, timestamp=datetime.now(UTC),
        ),
        Position(0, 1),
    )  # fmt: skip


def test_a_closed_subscription_takes_nothing_more() -> None:
    subscription = LocalEventBus().subscribe("tenant-a")
    subscription.close()

    subscription.offer(_delivery("tenant-a"))

    assert subscription.ready() == [] and not subscription.overflowed


def test_a_cut_off_subscription_takes_nothing_more() -> None:
    bus = LocalEventBus()
    subscription = bus.subscribe("tenant-a", buffer=1)
    subscription.offer(_delivery("tenant-a"))
    subscription.offer(_delivery("tenant-a"))  # over its buffer: cut off
    assert subscription.overflowed and bus.subscriber_count == 0

    subscription.offer(_delivery("tenant-a"))

    assert len(subscription.ready()) == 1  # what it had before the cut, nothing after


def test_a_tenants_subscription_takes_only_that_tenants_events() -> None:
    bus = LocalEventBus()
    mine, everyone = bus.subscribe("tenant-a"), bus.subscribe(None)

    for tenant in ("tenant-b", "tenant-a"):
        delivery = _delivery(tenant)
        mine.offer(delivery)
        everyone.offer(delivery)

    assert [e.tenant_id for e in mine.ready()] == ["tenant-a"]
    assert [e.tenant_id for e in everyone.ready()] == ["tenant-b", "tenant-a"]
