"""Run leases: one holder at a time plans or drives a run, and proves it before every write.

A holder (a worker, or a flow waiting for a remote model) takes the run's lease and renews it
while it works; another process takes the run over only once the lease has expired, by the
database's clock (processes' own clocks differ between machines). A takeover changes the owner
in the run's row, so a holder that was frozen past its lease finds out at its next renewal or
write: it stops its work and writes nothing (the write is "fenced"), counted in
`talkative_fenced_writes_total`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import db_now
from talkative.observability.metrics import FENCED_WRITES
from talkative.runs import service as runs
from talkative.runs.models import Run
from talkative.runtime import Runtime

log = logging.getLogger("talkative.leases")

# Why a run whose planner's lease expired ends failed (it was opened, its plan never recorded).
PLANNER_STOPPED = "the process planning this run stopped during the model call"


def holder(role: str) -> str:
    """A lease owner's name: its machine and process (for the operator), and a token of its own."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{role}:{secrets.token_hex(3)}"


def lease_of(runtime: Runtime) -> timedelta:
    return timedelta(seconds=runtime.settings.run_lease_s)


async def take(session: AsyncSession, run: Run, owner: str, lease: timedelta) -> None:
    """The run is `owner`'s until its lease expires (in the caller's transaction, row locked)."""
    run.lease_owner, run.lease_until = owner, await db_now(session) + lease


async def renew(runtime: Runtime, run_id: str, owner: str) -> Run:
    """Extends the lease if `owner` still holds it; returns the run as it now stands."""
    async with runtime.sessionmaker() as session, session.begin():
        until = await db_now(session) + lease_of(runtime)
        await session.execute(
            update(Run).where(Run.id == run_id, Run.lease_owner == owner).values(lease_until=until)
        )
        return await runs.get(session, run_id)


@contextlib.asynccontextmanager
async def kept(
    runtime: Runtime, run_id: str, owner: str, on_lost: Callable[[Run | None], None]
) -> AsyncIterator[None]:
    """Renews the lease every third of its length while the block runs. When a renewal finds the
    run no longer `owner`'s, it calls `on_lost` with the run (once) and stops renewing; so it does,
    with None, when no renewal got through (the database unreachable) for a whole lease: by then
    another process may have taken the run over."""
    lease = lease_of(runtime).total_seconds()
    loop = asyncio.get_running_loop()

    async def renewing() -> None:
        renewed = loop.time()
        while True:
            await asyncio.sleep(lease / 3)
            try:
                run = await renew(runtime, run_id, owner)
            except Exception:
                if loop.time() - renewed < lease:
                    log.warning("run %s: lease renewal failed; trying again", run_id, exc_info=True)
                    continue
                log.exception("run %s: no lease renewal got through for a whole lease", run_id)
                on_lost(None)
                return
            if run.lease_owner != owner:
                on_lost(run)
                return
            renewed = loop.time()

    task = asyncio.create_task(renewing(), name=f"lease {run_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def refuse(phase: str, run_id: str, owner: str, why: str) -> None:
    """A stale holder's write, not made: counted and logged with the reason."""
    FENCED_WRITES.labels(phase).inc()
    log.warning("fenced: %s of run %s not written by %s: %s", phase, run_id, owner, why)


def holding(run: Run) -> str:
    """Who holds the run now, as a refusal tells it."""
    return f"the run is {run.status}, held by {run.lease_owner or 'nobody'}"
