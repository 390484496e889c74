"""The bus shared by every process on one PostgreSQL: LISTEN/NOTIFY wakes a tail of the store.

Each process holds one listening connection. A trigger on the events table notifies
`talkative_events` in the storing transaction (its id, never a payload; PostgreSQL delivers it at
commit, once per transaction). On a notification, on this process's own commits, after a
reconnect, and at least every `poll_s` as a safety net, the tail reads the store after its
position (service.after: position order, only what no running transaction can precede) and fans
the events out to the local subscribers and listeners. Nothing travels in the notification, so a
lost one costs latency, never an event.

What it costs: each process reads each event once, and a transaction that notifies takes a global
lock for a moment at commit (PostgreSQL queues notifications in commit order). Past a few
thousand event-writing transactions a second, or with many processes, move to a log built for it
(NATS JetStream, Redis Streams) behind the same interface (README, "Scaling out").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import asyncpg
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.db import utcnow
from talkative.events import positions, service
from talkative.events.bus import LocalEventBus
from talkative.events.positions import START
from talkative.events.schemas import Event
from talkative.observability.metrics import BUS_LAG, BUS_RECONNECTS

CHANNEL = "talkative_events"  # the migration's trigger notifies it
TAIL_PAGE = 500
RECONNECT_S = (0.2, 0.5, 1.0, 2.0, 5.0)
log = logging.getLogger("talkative.events")


def bus_for(url: URL, *, poll_s: float) -> LocalEventBus:
    """The bus for a database: shared on PostgreSQL (several processes may use it), in-process on
    SQLite."""
    if url.get_backend_name() != "postgresql":
        return LocalEventBus()
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return SharedEventBus(dsn, poll_s=poll_s)


class SharedEventBus(LocalEventBus):
    def __init__(self, dsn: str, *, poll_s: float = 2.0) -> None:
        super().__init__()
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._dsn = dsn
        self._poll_s = poll_s
        self._poke = asyncio.Event()
        self._position = START
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()  # set while the listening connection is up

    def publish(self, events: Iterable[Event]) -> None:
        # This process's own commit: read the tail now rather than wait for the notification.
        # The events themselves come from the store, in position order with everyone else's.
        self._poke.set()

    async def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        async with sessionmaker() as session:
            self._position = await service.head(session)
        self._tasks = [
            asyncio.create_task(self._listen(), name="bus-listen"),
            asyncio.create_task(self._tail(), name="bus-tail"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _listen(self) -> None:
        """Keeps one listening connection up; every (re)connect re-reads the tail, since
        notifications sent while it was down are lost."""
        failures = 0
        while True:
            lost = asyncio.Event()
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=10)
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, lambda *_: self._poke.set())
                self.listening.set()
                if failures:
                    log.info("event bus: listening again after %d failed attempt(s)", failures)
                failures = 0
                self._poke.set()
                await lost.wait()
                log.warning("event bus: the listening connection was lost; reconnecting")
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                if failures == 0:
                    log.warning("event bus: cannot listen (%s); retrying", exc)
            finally:
                self.listening.clear()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(connection.close(timeout=1))
            BUS_RECONNECTS.inc()
            await asyncio.sleep(RECONNECT_S[min(failures, len(RECONNECT_S) - 1)])
            failures += 1

    async def _tail(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self._poll_s)
            self._poke.clear()
            try:
                await self._read()
            except Exception:  # the database is away: the next pass reads from the same position
                log.exception("event bus: reading the event tail failed")
                await asyncio.sleep(1.0)

    async def _read(self) -> None:
        assert self.sessionmaker is not None
        while True:
            async with self.sessionmaker() as session:
                page = await service.after(session, position=self._position, tenant_id=None, limit=TAIL_PAGE)
            if not page:
                return
            self._position = positions.at(page[-1].position)
            self.fan_out(page)
            # From the commit's statement (database clock) to this hand-out (this host's clock).
            BUS_LAG.observe(max(0.0, (utcnow() - page[-1].timestamp).total_seconds()))
            if len(page) < TAIL_PAGE:
                return
