"""The event bus: committed events fan out to live subscribers.

An interface so several API processes can later share one stream (PostgreSQL LISTEN/NOTIFY or
Redis); the in-process implementation serves one process. A subscriber whose bounded buffer fills
up is cut off rather than allowed to slow the publisher: its client reconnects with Last-Event-ID
and replays the gap from the store, so nothing is lost and nobody waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Protocol

from talkative.events.schemas import Event

DEFAULT_BUFFER = 1000


class Subscription:
    def __init__(self, bus: LocalEventBus, tenant_id: str | None, buffer: int) -> None:
        self._bus = bus
        self.tenant_id = tenant_id
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=buffer)
        self.overflowed = False

    def offer(self, event: Event) -> None:
        if self.overflowed or (self.tenant_id is not None and event.tenant_id != self.tenant_id):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self._bus.unsubscribe(self)

    async def next(self, wait_s: float) -> Event | None:
        """The next event, or None after `wait_s` seconds of quiet."""
        if not self.queue.empty():  # no timer needed (wait_for costs a task per call)
            return self.queue.get_nowait()
        if self.overflowed:
            raise SubscriberLagged
        try:
            return await asyncio.wait_for(self.queue.get(), wait_s)
        except TimeoutError:
            return None

    def ready(self) -> list[Event]:
        """Every event already waiting, without waiting for more (None marks nothing here)."""
        ready: list[Event] = []
        while not self.queue.empty():
            event = self.queue.get_nowait()
            if event is not None:
                ready.append(event)
        return ready

    def close(self) -> None:
        self._bus.unsubscribe(self)


class SubscriberLagged(Exception):
    """The subscriber fell too far behind; it must reconnect and replay from the store."""


class EventBus(Protocol):
    def publish(self, events: Iterable[Event]) -> None: ...

    def subscribe(self, tenant_id: str | None, buffer: int = DEFAULT_BUFFER) -> Subscription: ...

    @property
    def subscriber_count(self) -> int: ...


class LocalEventBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def publish(self, events: Iterable[Event]) -> None:
        batch = list(events)
        for subscriber in list(self._subscribers):
            for event in batch:
                subscriber.offer(event)

    def subscribe(self, tenant_id: str | None, buffer: int = DEFAULT_BUFFER) -> Subscription:
        subscription = Subscription(self, tenant_id, buffer)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
