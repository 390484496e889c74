"""The event store: append/tail/after ordering and limits, retention, index use, and the outbox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.events import service as events
from talkative.events.bus import Subscription
from talkative.events.positions import START, at
from talkative.events.schemas import Event, EventType, NewEvent
from tests.events.served import caught_up
from tests.waiting import eventually

Maker = async_sessionmaker[AsyncSession]


def _new(agent: str | None, message: str, tenant: str = "tenant-a", run: str | None = None) -> NewEvent:
    return NewEvent(
        type=EventType.METRIC_RECORDED, tenant_id=tenant, agent_id=agent, run_id=run, message=message
    )


async def _append(maker: Maker, batch: list[NewEvent]) -> list[Event]:
    async with maker() as session, session.begin():
        return await events.append(session, batch)


async def _fill(maker: Maker, agent: str, count: int, tenant: str = "tenant-a") -> list[Event]:
    return await _append(maker, [_new(agent, f"{agent}-{i}", tenant) for i in range(count)])


async def _tail(maker: Maker, agent: str, limit: int = 1000, tenant: str = "tenant-a") -> list[str]:
    async with maker() as session:
        return [e.message for e in await events.tail(session, tenant_id=tenant, agent_id=agent, limit=limit)]


async def _drain(subscription: Subscription, expected: int) -> list[Event]:
    """What the subscription has received once `expected` events have (on SQLite at the commit; on
    PostgreSQL once the bus has read them back from the store)."""
    got: list[Event] = []

    def arrived() -> list[Event] | None:
        got.extend(subscription.ready())
        return got if len(got) >= expected else None

    return await eventually(arrived, what=lambda: f"{expected} events never arrived; got {got}")


async def test_append_assigns_increasing_ids_and_keeps_fields(app: FastAPI) -> None:
    stored = await _append(
        app.state.sessionmaker,
        [
            _new("alpha", "one", run="run_1"),
            NewEvent(type="CUSTOM", tenant_id="tenant-b", payload={"k": [1]}),
        ],
    )
    assert stored[0].id < stored[1].id
    assert (stored[0].type, stored[0].agent_id, stored[0].run_id, stored[0].message) == (
        "METRIC_RECORDED",
        "alpha",
        "run_1",
        "one",
    )
    assert (stored[1].type, stored[1].tenant_id, stored[1].agent_id, stored[1].payload) == (
        "CUSTOM",
        "tenant-b",
        None,
        {"k": [1]},
    )
    assert stored[0].timestamp.tzinfo is not None
    async with app.state.sessionmaker() as session:
        assert await events.for_run(session, run_id="run_1") == [stored[0]]


async def test_tail_is_newest_n_oldest_first(app: FastAPI) -> None:
    maker = app.state.sessionmaker
    for i in range(5):  # interleave two agents across several transactions
        await _append(maker, [_new("alpha", f"alpha-{i}"), _new("bravo", f"bravo-{i}")])
    assert await _tail(maker, "alpha", 3) == ["alpha-2", "alpha-3", "alpha-4"]
    assert await _tail(maker, "bravo", 1) == ["bravo-4"]
    assert await _tail(maker, "alpha") == [f"alpha-{i}" for i in range(5)]
    assert await _tail(maker, "nobody") == []


async def test_after_orders_filters_and_limits(app: FastAPI) -> None:
    maker = app.state.sessionmaker
    a = await _fill(maker, "alpha", 4)
    b = await _fill(maker, "bravo", 2, tenant="tenant-b")
    await caught_up(maker, b[-1])
    async with maker() as session:
        all_after = await events.after(session, position=at(a[0].position), tenant_id=None, limit=100)
        tenant_a = await events.after(session, position=START, tenant_id="tenant-a", limit=100)
        limited = await events.after(session, position=START, tenant_id=None, limit=2)
        none_left = await events.after(session, position=at(b[-1].position), tenant_id=None, limit=100)
        head = await events.head(session)
    assert [e.id for e in all_after] == [e.id for e in a[1:] + b]
    assert [e.message for e in tenant_a] == ["alpha-0", "alpha-1", "alpha-2", "alpha-3"]
    assert [e.id for e in limited] == [a[0].id, a[1].id]
    assert none_left == []
    assert str(head) == b[-1].position


async def test_prune_keeps_newest_and_spares_other_agents(app: FastAPI) -> None:
    maker = app.state.sessionmaker
    await _fill(maker, "alpha", 12)
    await _fill(maker, "bravo", 5)
    async with maker() as session, session.begin():
        assert await events.prune_agent(session, tenant_id="tenant-a", agent_id="alpha", keep=4) == 8
    assert await _tail(maker, "alpha") == [f"alpha-{i}" for i in range(8, 12)]
    assert await _tail(maker, "bravo") == [f"bravo-{i}" for i in range(5)]
    async with maker() as session, session.begin():
        assert await events.prune_agent(session, tenant_id="tenant-a", agent_id="alpha", keep=4) == 0
        assert await events.prune_agent(session, tenant_id="tenant-a", agent_id="bravo", keep=5) == 0
        assert await events.prune_agent(session, tenant_id="tenant-a", agent_id="bravo", keep=50) == 0
    assert len(await _tail(maker, "bravo")) == 5


async def test_prune_in_batches_ends_at_exactly_keep(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    maker = app.state.sessionmaker
    monkeypatch.setattr(events, "PRUNE_BATCH", 3)
    await _fill(maker, "alpha", 10)
    await _fill(maker, "bravo", 4)
    removed: list[int] = []
    for _ in range(10):
        async with maker() as session, session.begin():
            removed.append(await events.prune_agent(session, tenant_id="tenant-a", agent_id="alpha", keep=2))
        if removed[-1] == 0:
            break
    assert removed == [3, 3, 2, 0]
    assert await _tail(maker, "alpha") == ["alpha-8", "alpha-9"]
    assert len(await _tail(maker, "bravo")) == 4


async def _captured_tail(app: FastAPI) -> tuple[str, Any]:
    """The statement and parameters events.service.tail really sends to the database."""
    seen: list[tuple[str, Any]] = []

    def record(_c: object, _cur: object, statement: str, parameters: Any, *_: object) -> None:
        seen.append((statement, parameters))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with app.state.sessionmaker() as session:
            assert len(await events.tail(session, tenant_id="tenant-a", agent_id="alpha", limit=50)) == 50
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # The app's run worker and the bus's tail (PostgreSQL) read meanwhile: only the events reads
    # without the tail's snapshot horizon are ours.
    selects = [
        s
        for s in seen
        if s[0].lstrip().upper().startswith("SELECT") and "FROM events" in s[0] and "snapshot" not in s[0]
    ]
    assert len(selects) == 1, seen
    return selects[0]


async def test_tail_reads_use_the_agent_index(app: FastAPI) -> None:
    for agent in ("alpha", "bravo", "charlie"):
        await _fill(app.state.sessionmaker, agent, 200)
    statement, parameters = await _captured_tail(app)
    async with app.state.engine.connect() as conn:
        if app.state.engine.dialect.name == "sqlite":
            await conn.exec_driver_sql("ANALYZE")
            rows = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)).all()
            plan = "\n".join(str(row[-1]) for row in rows)
            assert "USING INDEX ix_events_tenant_agent_id" in plan or "USING COVERING INDEX" in plan, plan
            assert "SCAN events" not in plan, f"the tail must be an index range search: {plan}"
            assert "TEMP B-TREE" not in plan, f"the tail must not sort: {plan}"
        else:
            await conn.exec_driver_sql("ANALYZE events")
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = (await conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)).all()
            plan = "\n".join(str(row[0]) for row in rows)
            assert "Index Scan" in plan and "ix_events_tenant_agent_id" in plan, plan
            assert "Seq Scan" not in plan and "Sort" not in plan, plan
            await conn.rollback()


async def test_rolled_back_events_are_not_published(app: FastAPI) -> None:
    subscription = app.state.bus.subscribe(None)
    try:
        maker = app.state.sessionmaker
        async with maker() as session:
            await session.begin()
            await events.append(session, [_new("alpha", "lost")])
            await session.rollback()
        with pytest.raises(RuntimeError, match="boom"):
            async with maker() as session, session.begin():
                await events.append(session, [_new("alpha", "also lost")])
                raise RuntimeError("boom")
        await asyncio.sleep(0)
        assert subscription.ready() == [], "events of a rolled-back transaction reached the bus"
        assert await _tail(maker, "alpha") == []
        kept = await _append(maker, [_new("alpha", "kept-1"), _new("alpha", "kept-2")])
        assert [e.id for e in await _drain(subscription, 2)] == [e.id for e in kept]
        assert await _tail(maker, "alpha") == ["kept-1", "kept-2"]
    finally:
        subscription.close()


async def test_commit_publishes_only_to_the_right_tenant(app: FastAPI) -> None:
    everyone = app.state.bus.subscribe(None)
    tenant_b = app.state.bus.subscribe("tenant-b")
    try:
        a = await _fill(app.state.sessionmaker, "alpha", 1)
        b = await _fill(app.state.sessionmaker, "bravo", 1, tenant="tenant-b")
        assert [e.id for e in await _drain(everyone, 2)] == [a[0].id, b[0].id]
        assert [e.id for e in await _drain(tenant_b, 1)] == [b[0].id]
    finally:
        everyone.close()
        tenant_b.close()


async def test_savepoint_rollback_keeps_the_outer_events_staged(app: FastAPI) -> None:
    subscription = app.state.bus.subscribe(None)
    try:
        async with app.state.sessionmaker() as session, session.begin():
            await events.append(session, [_new("alpha", "outer")])
            savepoint = await session.begin_nested()
            await events.append(session, [_new("alpha", "inner")])
            await savepoint.rollback()
        assert await _tail(app.state.sessionmaker, "alpha") == ["outer"]
        published = [e.message for e in await _drain(subscription, 1)]
        assert published == ["outer"], (
            "BUG: outbox._discard runs on a SAVEPOINT rollback and drops the whole outbox, so a "
            f"committed event is never pushed to live subscribers; published {published}"
        )
    finally:
        subscription.close()


async def test_closed_session_does_not_publish_its_rolled_back_events_later(app: FastAPI) -> None:
    subscription = app.state.bus.subscribe(None)
    session = app.state.sessionmaker()
    try:
        await session.begin()
        await events.append(session, [_new("alpha", "never stored")])
        await session.close()  # ends the transaction with a rollback, without Session.rollback()
        await session.begin()
        await events.append(session, [_new("alpha", "stored")])
        await session.commit()
        assert await _tail(app.state.sessionmaker, "alpha") == ["stored"]
        published = [e.message for e in await _drain(subscription, 1)]
        assert published == ["stored"], (
            "BUG: Session.close() rolls back without firing after_rollback, so the staged outbox "
            f"survives and the next commit of the session publishes an event never stored: {published}"
        )
    finally:
        await session.close()
        subscription.close()


async def test_tail_and_prune_keep_to_the_agents_tenant(app: FastAPI) -> None:
    """An agent is (tenant, id): another tenant's agent with the same id is another agent."""
    maker = app.state.sessionmaker
    await _fill(maker, "twin", 3, tenant="tenant-a")
    await _append(maker, [_new("twin", f"b-{i}", "tenant-b") for i in range(4)])
    assert await _tail(maker, "twin", tenant="tenant-b") == [f"b-{i}" for i in range(4)]
    assert await _tail(maker, "twin", tenant="tenant-a") == [f"twin-{i}" for i in range(3)]
    async with maker() as session, session.begin():
        assert await events.prune_agent(session, tenant_id="tenant-b", agent_id="twin", keep=1) == 3
    assert await _tail(maker, "twin", tenant="tenant-a") == [f"twin-{i}" for i in range(3)]
