"""The shared bus on PostgreSQL: what one process commits reaches every process's streams and
listeners, and a lost listening connection costs latency, never an event."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from talkative.events import service as events
from talkative.events.schemas import Event, EventType, NewEvent
from talkative.events.shared import CHANNEL, SharedEventBus
from talkative.main import create_app
from talkative.observability.metrics import BUS_RECONNECTS
from talkative.settings import Settings
from tests.waiting import eventually

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
async def other(app: FastAPI, settings: Settings) -> AsyncIterator[FastAPI]:
    """A second process's app on the same database (its own pool, bus and listening connection)."""
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        yield second


async def _commit(app: FastAPI, *batch: NewEvent) -> list[Event]:
    async with app.state.sessionmaker() as session, session.begin():
        return await events.append(session, list(batch))


def _new(message: str, *, run: str | None = None, type_: str = EventType.METRIC_RECORDED) -> NewEvent:
    return NewEvent(type=type_, tenant_id="tenant-a", agent_id="a", run_id=run, message=message)


async def test_a_subscriber_sees_what_another_process_commits(app: FastAPI, other: FastAPI) -> None:
    assert isinstance(app.state.bus, SharedEventBus)
    subscription = app.state.bus.subscribe("tenant-a")
    got: list[Event] = []

    def arrived() -> list[Event] | None:
        got.extend(subscription.ready())
        return got if len(got) >= 10 else None

    try:
        stored = [e for i in range(10) for e in await _commit(other, _new(f"m{i}"))]
        await eventually(arrived, what=lambda: f"10 events never arrived; got {len(got)}")
    finally:
        subscription.close()
    assert [e.id for e in got] == [e.id for e in stored]


async def test_a_cancel_committed_elsewhere_reaches_this_process_tool(app: FastAPI, other: FastAPI) -> None:
    signal = app.state.runtime.watch.cancel_signal("run-x")
    app.state.runtime.watch.track("run-x")
    await _commit(other, _new("cancelled", run="run-x", type_=EventType.RUN_CANCELLED))
    await eventually(signal.is_set, what="the cancel never reached the other process")
    assert await app.state.runtime.watch.changed("run-x", 0)  # and whoever waited on the run heard


async def test_events_committed_while_the_listener_is_down_still_arrive(app: FastAPI) -> None:
    bus: SharedEventBus = app.state.bus
    await eventually(bus.listening.is_set, what="the bus never listened")
    before = BUS_RECONNECTS._value.get()
    subscription = bus.subscribe(None)
    async with app.state.sessionmaker() as session:
        killed = await session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query = :listen"
            ),
            {"listen": f'LISTEN "{CHANNEL}"'},
        )
    assert killed == 1
    stored = await _commit(app, _new("while down"))
    got: list[Event] = []

    def arrived() -> list[Event] | None:
        got.extend(subscription.ready())
        return got or None

    try:
        await eventually(arrived, what="an event committed while the listener was down never arrived")
    finally:
        subscription.close()
    assert [e.id for e in got] == [stored[0].id]
    await eventually(lambda: BUS_RECONNECTS._value.get() > before and bus.listening.is_set())
