"""Which process runs the singleton loops (heartbeats, event retention, webhooks): the elected one.

On PostgreSQL the leader is the process holding a session-level advisory lock on a connection of
its own, for as long as it leads. The others try for it every few seconds. When the leader dies,
its connection closes and the server frees the lock, so another takes over; when the leader's lock
connection breaks (or stops answering), it stops its loops at once, since the lock may already be
someone else's. On SQLite there is one process, always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

import asyncpg

from talkative.observability.metrics import LEADER

log = logging.getLogger("talkative.cluster")

# Any fixed key that no other lock uses; this one spells "talklead" in ASCII.
LEADER_LOCK = 0x74616C6B6C656164

Duty = Callable[[], Coroutine[Any, Any, None]]


class Elector(Protocol):
    async def try_lead(self) -> bool:
        """Becomes the leader if nobody is; True if this process leads now."""

    async def lost(self) -> None:
        """Returns once this process may no longer be the leader."""

    async def resign(self) -> None:
        """Lets another process lead."""


class SoleLeader:
    """SQLite: one process, which leads."""

    async def try_lead(self) -> bool:
        return True

    async def lost(self) -> None:
        await asyncio.Event().wait()

    async def resign(self) -> None:
        pass


class AdvisoryLockElector:
    """PostgreSQL: leads while its own connection holds the leader lock."""

    def __init__(self, connect_args: Mapping[str, Any], *, check_s: float, timeout_s: float) -> None:
        self._connect_args = dict(connect_args)
        self._check_s = check_s
        self._timeout_s = timeout_s
        self._conn: asyncpg.Connection | None = None
        self._closed = asyncio.Event()

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._closed = asyncio.Event()
            closed = self._closed
            self._conn = await asyncpg.connect(**self._connect_args, timeout=self._timeout_s)
            self._conn.add_termination_listener(lambda _: closed.set())
        return self._conn

    async def try_lead(self) -> bool:
        conn = await self._connection()
        try:
            return bool(
                await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK, timeout=self._timeout_s)
            )
        except BaseException:
            await self.resign()  # a connection in doubt is dropped; the next try opens another
            raise

    async def lost(self) -> None:
        """The connection closed, or did not answer a check in time (a silent network)."""
        conn = self._conn
        if conn is None:
            return
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self._check_s)
                return
            try:
                await conn.fetchval("SELECT 1", timeout=self._timeout_s)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                return

    async def resign(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            # Closing the session frees its lock; terminate if the server does not answer.
            try:
                await asyncio.wait_for(conn.close(), self._timeout_s)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()


async def lead(
    elector: Elector, duties: Mapping[str, Duty], *, stopping: asyncio.Event, retry_s: float
) -> None:
    """Until the process stops: tries to lead, and while it leads, runs the duties."""
    following = False
    try:
        while not stopping.is_set():
            try:
                leading = await elector.try_lead()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("leader election: could not ask the database (%s); trying again", exc)
                leading = False
            except Exception:  # the loop must outlive any one failure, and say what it was
                log.exception("leader election failed; trying again")
                leading = False
            if leading:
                following = False
                await _term(elector, duties, stopping)
            elif not following:
                following = True
                log.info(
                    "another process leads (heartbeats, event retention, webhooks); trying every %gs",
                    retry_s,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), retry_s)
    finally:
        await elector.resign()


async def _term(elector: Elector, duties: Mapping[str, Duty], stopping: asyncio.Event) -> None:
    """One term as the leader: the duties run until the process stops or the lead is lost."""
    LEADER.set(1)
    log.info("this process leads: the heartbeat scheduler, event retention and webhook delivery run here")
    tasks = [asyncio.create_task(duty(), name=name) for name, duty in duties.items()]
    lost = asyncio.create_task(elector.lost(), name="leader-lock-watch")
    stop = asyncio.create_task(stopping.wait(), name="leader-stopping")
    try:
        await asyncio.wait([lost, stop], return_when=asyncio.FIRST_COMPLETED)
        if stopping.is_set():
            await asyncio.gather(*tasks, return_exceptions=True)  # the loops end at `stopping`
        else:
            log.warning("this process no longer leads: the connection holding the leader lock was lost")
    finally:
        for task in (*tasks, lost, stop):
            task.cancel()
        await asyncio.gather(*tasks, lost, stop, return_exceptions=True)
        LEADER.set(0)
        await elector.resign()
