"""The event bus: committed events fan out to live subscribers and to the process's listeners.

An interface with two implementations: `LocalEventBus` publishes what this process commits (one
process on SQLite, whose single writer makes commit order the id order), `SharedEventBus`
(events/shared.py) tails the store in position order when PostgreSQL notifies a commit, so every
process sees every process's events. A subscriber whose bounded buffer fills up is cut off rather
than allowed to slow the publisher: its client reconnects with Last-Event-ID and replays the gap
from the store, so nothing is lost and nobody waits. Listeners (the run watch, the worker's wake-up)
hear each batch once, in the publisher's task: they must not block.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.events import positions
from talkative.events.positions import Position
from talkative.events.schemas import Event

DEFAULT_BUFFER = 1000
Listener = Callable[[Sequence[Event]], None]
log = logging.getLogger("talkative.events")


@dataclass(slots=True)
class Delivery:
    """One published event as all its subscribers receive it: the same object for each, so its
    wire form (`frame`) is encoded by the first stream that sends it and reused by the others."""

    event: Event
    position: Position
    frame: bytes | None = None


class Subscription:
    """A subscriber's bounded buffer. Waiting costs a future and a timer, not a task: with a
    thousand streams, a task per wait was most of the cost of a fan-out."""

    def __init__(self, bus: LocalEventBus, tenant_id: str | None, buffer: int) -> None:
        self._bus = bus
        self.tenant_id = tenant_id
        self.buffer = buffer
        self._items: list[Delivery] = []  # a list: a deque's first block alone is ~600 bytes
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        self.closed = False

    def offer(self, delivery: Delivery) -> None:
        if self.closed or self.overflowed:
            return
        if self.tenant_id is not None and delivery.event.tenant_id != self.tenant_id:
            return
        if len(self._items) >= self.buffer:
            self.overflowed = True
            self._bus.unsubscribe(self)
        else:
            self._items.append(delivery)
        self._wake()

    async def batch(self, wait_s: float) -> list[Delivery] | None:
        """Everything queued, waiting up to `wait_s` for a first one; None after that much quiet
        (or once closed). Raises SubscriberLagged once what arrived before an overflow is out."""
        if not self._items and not self.overflowed and not self.closed:
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            timer = loop.call_later(wait_s, self._wake)
            try:
                await self._waiter
            finally:
                timer.cancel()
                self._waiter = None
        if self._items:
            ready, self._items = self._items, []
            return ready
        if self.overflowed:
            raise SubscriberLagged
        return None

    async def next(self, wait_s: float) -> Event | None:
        """The next event, one at a time, or None after `wait_s` seconds of quiet."""
        if not self._items:
            ready = await self.batch(wait_s)
            if not ready:
                return None
            self._items = ready
        return self._items.pop(0).event

    def ready(self) -> list[Event]:
        """Every event already waiting, without waiting for more."""
        ready = [delivery.event for delivery in self._items]
        self._items = []
        return ready

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self) -> None:
        """Unsubscribes; a stream waiting in `batch` wakes up and ends."""
        self.closed = True
        self._bus.unsubscribe(self)
        self._wake()


class SubscriberLagged(Exception):
    """The subscriber fell too far behind; it must reconnect and replay from the store."""


class EventBus(Protocol):
    def publish(self, events: Iterable[Event]) -> None:
        """Events this process just committed (called after the commit)."""

    def subscribe(self, tenant_id: str | None, buffer: int = DEFAULT_BUFFER) -> Subscription: ...

    def unsubscribe(self, subscription: Subscription) -> None: ...

    def end_streams(self) -> None:
        """Closes every subscription, and every later one at once: the server is shutting down."""

    def listen(self, listener: Listener) -> None:
        """`listener` hears every batch of committed events this process learns of."""

    async def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Begins delivering; `sessionmaker` reads the store (its sessions publish here)."""

    async def stop(self) -> None: ...

    @property
    def subscriber_count(self) -> int: ...


class LocalEventBus:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._listeners: list[Listener] = []
        self._ended = False

    def publish(self, events: Iterable[Event]) -> None:
        self.fan_out(list(events))

    def fan_out(self, events: Sequence[Event]) -> None:
        """Hands committed events, in position order, to the listeners and the subscribers."""
        for listener in self._listeners:
            try:
                listener(events)
            except Exception:  # one listener's bug must not cost the streams their events
                log.exception("an event listener failed")
        if not self._subscribers:
            return
        batch = [Delivery(event, positions.at(event.position)) for event in events]
        for subscriber in list(self._subscribers):
            for delivery in batch:
                subscriber.offer(delivery)

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        pass

    async def stop(self) -> None:
        pass

    def subscribe(self, tenant_id: str | None, buffer: int = DEFAULT_BUFFER) -> Subscription:
        subscription = Subscription(self, tenant_id, buffer)
        if self._ended:  # a stream opened as the server stops ends after its replay
            subscription.closed = True
        else:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def end_streams(self) -> None:
        """Every stream ends now, cleanly: an open SSE response would otherwise hold the server's
        graceful shutdown until its timeout, then be cancelled mid-wait (with a traceback)."""
        self._ended = True
        for subscription in list(self._subscribers):
            subscription.close()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)
