"""The bus never lets a slow subscriber block the publisher or the others."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from talkative.events.bus import LocalEventBus, SubscriberLagged
from talkative.events.schemas import Event
from tests.waiting import within


def event(i: int, tenant: str = "t1") -> Event:
    return Event(
        id=i,
        position=str(i),
        type="X",
        tenant_id=tenant,
        agent_id="a",
        run_id=None,
        message="",
        payload={},
        timestamp=datetime.now(UTC),
    )


async def test_tenant_filter() -> None:
    bus = LocalEventBus()
    mine, admin = bus.subscribe("t1"), bus.subscribe(None)
    bus.publish([event(1, "t1"), event(2, "t2")])
    assert [(await mine.next(0.1)).id] == [1]  # type: ignore[union-attr]
    assert await mine.next(0.01) is None
    assert [(await admin.next(0.1)).id, (await admin.next(0.1)).id] == [1, 2]  # type: ignore[union-attr]


async def test_slow_subscriber_is_cut_off_not_waited_for() -> None:
    bus = LocalEventBus()
    slow = bus.subscribe(None, buffer=3)
    fast = bus.subscribe(None, buffer=100)
    bus.publish([event(i) for i in range(1, 11)])  # returns at once even though `slow` is full
    assert bus.subscriber_count == 1
    assert [(await fast.next(0.1)).id for _ in range(10)] == list(range(1, 11))  # type: ignore[union-attr]
    # The slow one drains what it had, then learns it must reconnect and replay from the store.
    assert [(await slow.next(0.1)).id for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]
    with pytest.raises(SubscriberLagged):
        await slow.next(0.1)


async def test_closed_subscription_stops_receiving() -> None:
    bus = LocalEventBus()
    sub = bus.subscribe(None)
    sub.close()
    bus.publish([event(1)])
    assert bus.subscriber_count == 0
    assert await within(sub.next(0.01)) is None


async def test_end_streams_wakes_every_waiter_and_closes_later_subscriptions() -> None:
    bus = LocalEventBus()
    waiting = bus.subscribe(None)
    wait = asyncio.ensure_future(waiting.batch(60))
    await asyncio.sleep(0)
    bus.end_streams()
    assert await within(wait, timeout=5, what="not woken by end_streams") is None  # not after 60 s
    assert waiting.closed and bus.subscriber_count == 0
    late = bus.subscribe(None)  # a stream opened as the server stops ends after its replay
    assert late.closed and bus.subscriber_count == 0
    bus.publish([event(1)])
    assert await late.batch(60) is None
