"""The run worker: claim a run, execute its next step, persist, repeat.

Its boundary is the database: a run is claimed with a lease (renewed while a step executes), every
step's start and outcome is committed before the next one begins, and a run whose worker died is
taken over when its lease expires, continuing from the first step not completed. So the same loop
can later run as separate processes on other machines without changing the run logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import timedelta

from sqlalchemy import or_, select, update

from talkative.db import utcnow
from talkative.orchestrator import service as runs
from talkative.orchestrator import steps
from talkative.orchestrator.models import Run
from talkative.orchestrator.reducer import RunAction
from talkative.orchestrator.runtime import Runtime

log = logging.getLogger("talkative.worker")


class Worker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wakeup = asyncio.Event()
        self._active: dict[str, asyncio.Task[None]] = {}
        self._reserved = 0  # slots promised to runs being opened (see reserve)
        self._starved = False  # a run went without a slot: claim as soon as one frees up

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.runtime.settings.run_lease_s)

    def wake(self) -> None:
        self._wakeup.set()

    async def run_forever(self) -> None:
        while not self.runtime.stopping.is_set():
            try:
                await self.fill()
            except Exception:
                log.exception("run worker pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.runtime.settings.worker_poll_s)
            self._wakeup.clear()

    def wake_all(self) -> None:
        """Used at shutdown so the loop notices `stopping` at once."""
        self._wakeup.set()

    def reserve(self) -> bool:
        """Promises a slot to a run about to be opened with this worker's lease: it then starts
        at once (`adopt`) instead of waiting for a claim. False when every slot is taken."""
        if self.runtime.settings.worker_concurrency - len(self._active) - self._reserved <= 0:
            self._starved = True
            return False
        self._reserved += 1
        return True

    def adopt(self, run_id: str, started: steps.StartedTool | None = None) -> None:
        """Drives a run whose lease this worker took in the run's opening transaction (which may
        also have started its first step: `started`)."""
        self._reserved -= 1
        if run_id not in self._active:
            self._active[run_id] = asyncio.create_task(self._drive(run_id, started), name=f"run {run_id}")

    def release_reservation(self) -> None:
        """The run was not opened after all (or needs no worker)."""
        self._reserved -= 1

    async def fill(self) -> None:
        free = self.runtime.settings.worker_concurrency - len(self._active) - self._reserved
        if free <= 0:
            self._starved = True
            return
        for run_id in await self.claim(free):
            self._active[run_id] = asyncio.create_task(self._drive(run_id), name=f"run {run_id}")

    async def claim(self, limit: int) -> list[str]:
        """Running runs nobody holds (or whose holder's lease expired), each claimed once."""
        now = utcnow()
        claimed: list[str] = []
        async with self.runtime.sessionmaker() as session, session.begin():
            free = or_(Run.lease_until.is_(None), Run.lease_until < now)
            candidates = (
                await session.scalars(
                    select(Run.id)
                    .where(Run.status == "running", free)
                    .order_by(Run.created_at)
                    .limit(limit * 2)
                )
            ).all()
            for run_id in candidates:
                if run_id in self._active or len(claimed) >= limit:
                    continue
                result = await session.execute(
                    update(Run)
                    .where(Run.id == run_id, free)
                    .values(lease_owner=self.owner, lease_until=now + self.lease)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    claimed.append(run_id)
        return claimed

    async def _drive(self, run_id: str, started: steps.StartedTool | None = None) -> None:
        failed, let_go = False, False
        try:
            runtime, owner, lease = self.runtime, self.owner, self.lease
            again = started is None or await steps.run_started_tool(
                runtime, run_id=run_id, owner=owner, lease=lease, started=started
            )
            while again and await steps.advance(runtime, run_id=run_id, owner=owner, lease=lease):
                pass
            let_go = True  # the last step's transaction released the lease (steps.advance)
        except Exception as exc:
            failed = True
            log.exception("run %s failed in the worker", run_id)
            await self._fail(run_id, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self.runtime.watch.notify(run_id)  # the outcome is committed: whoever waits hears now
            if not let_go:  # failed, or stopped at shutdown: free the run for a takeover now
                await self._release(run_id)
            self._active.pop(run_id, None)
            # A freed slot matters only to runs that found none (or to this one, if it broke):
            # they are claimed on the next pass. Otherwise the periodic pass is enough.
            if failed or self._starved:
                self._starved = False
                self.wake()

    async def _release(self, run_id: str) -> None:
        with contextlib.suppress(Exception):
            await steps.release_lease(self.runtime, run_id, self.owner)

    async def _fail(self, run_id: str, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with self.runtime.sessionmaker() as session, session.begin():
                run = await runs.get(session, run_id, for_update=True)
                if run.status in ("running", "paused", "waiting_approval", "pending"):
                    await runs.transition(session, run, RunAction.FAIL, reason=reason)

    async def stop(self) -> None:
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
