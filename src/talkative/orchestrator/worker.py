"""The run worker: claim a run, run its steps one by one, persist each, repeat.

Its boundary is the database: a run is claimed with a lease (renewed while a step works), every
step's start and outcome is committed before the next one begins, and a run whose worker died is
taken over when its lease expires, continuing from the first step not done. Runs reach the worker
one way only: a flow commits a planned run and wakes it; it claims what nobody holds. Each kind of
step runs through its executor (steps/), looked up by kind.
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
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import utcnow
from talkative.events import service as events
from talkative.orchestrator.steps.base import Executors, StepJob, StepOutcome
from talkative.runs import service as runs
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import OPEN_STEPS, TERMINAL, RunAction, RunStatus, StepKind, StepStatus
from talkative.runtime import Runtime

log = logging.getLogger("talkative.worker")
MAX_ATTEMPTS = 3  # a step interrupted this many times (its worker died each time) fails


class Worker:
    def __init__(self, runtime: Runtime, executors: Executors) -> None:
        self.runtime = runtime
        self.executors = executors
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._wakeup = asyncio.Event()
        self._active: dict[str, asyncio.Task[None]] = {}
        self._starved = False  # a run may be waiting for a slot: claim as soon as one frees up
        self._stopped = False

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

    async def fill(self) -> None:
        """Claims runs for the free slots and drives each in a task of its own."""
        if self._stopped:
            return
        free = self.runtime.settings.worker_concurrency - len(self._active)
        claimed = await self.claim(free) if free > 0 else []
        self._starved = len(claimed) == max(free, 0)  # every slot filled: more may be waiting
        for run_id in claimed:
            self._active[run_id] = asyncio.create_task(self._drive(run_id), name=f"run {run_id}")

    async def claim(self, limit: int) -> list[str]:
        """Running runs nobody holds (or whose holder's lease expired), oldest first. Only a read:
        the lease is taken in the transaction that begins the run's next step (`_next_job`), where
        the run's row is locked, so two workers never both drive one run."""
        now = utcnow()
        free = or_(Run.lease_until.is_(None), Run.lease_until < now)
        query = select(Run.id).where(Run.status == RunStatus.RUNNING, free).order_by(Run.created_at)
        async with self.runtime.sessionmaker() as session:
            candidates = (await session.scalars(query.limit(limit + len(self._active)))).all()
        return [run_id for run_id in candidates if run_id not in self._active][:limit]

    async def _drive(self, run_id: str) -> None:
        """Runs the claimed run's steps until it ends, stops at a gate, or is paused or cancelled.
        Whichever transaction decides to stop also lets go of the lease."""
        let_go = False
        try:
            while (job := await self._next_job(run_id)) is not None:
                outcome = await self._work(job)
                if outcome is None:  # the run stopped while the step worked: it resumes later
                    break
                if not await self._record(job, outcome):
                    let_go = True
                    break
            else:
                let_go = True
        except Exception as exc:
            log.exception("run %s failed in the worker", run_id)
            await self._fail(run_id, f"internal error: {type(exc).__name__}: {exc}")
        finally:
            self.runtime.watch.notify(run_id)  # the outcome is committed: whoever waits hears now
            if not let_go:  # stopped at shutdown, or broke: free the run for a takeover now
                await self._release(run_id)
            self._active.pop(run_id, None)
            # A freed slot matters only to runs that found none (or to this one, if it broke);
            # otherwise the next flow's wake-up or the periodic pass is enough.
            if self._starved or not let_go:
                self._starved = False
                self.wake()

    async def _next_job(self, run_id: str) -> StepJob | None:
        """Begins the run's next steps in turn: those that end when they begin are stored at once;
        returns the first that needs work, or None when the run needs this worker no more."""
        while True:
            async with self.runtime.sessionmaker() as session, session.begin():
                run = await runs.get(session, run_id, for_update=True)
                now = utcnow()
                held_elsewhere = run.lease_owner not in (None, self.owner)
                if held_elsewhere and run.lease_until is not None and run.lease_until > now:
                    return None  # another worker drives it (its lease has not expired)
                if run.status != RunStatus.RUNNING:
                    if run.lease_owner == self.owner:
                        run.lease_owner, run.lease_until = None, None
                    return None
                steps = await runs.steps_of(session, run_id)
                step = next((s for s in steps if s.status in OPEN_STEPS), None)
                if step is None:
                    await runs.finish(session, run, steps)
                    return None
                if step.status == StepStatus.RUNNING and step.attempts >= MAX_ATTEMPTS:
                    error = {"error": "interrupted too many times"}
                    step.status, step.result, step.finished_at = StepStatus.FAILED, error, utcnow()
                    continue
                step.status, step.attempts, step.started_at = StepStatus.RUNNING, step.attempts + 1, now
                run.lease_owner, run.lease_until = self.owner, now + self.lease
                begun = await self.executors[StepKind(step.kind)].begin(session, run, step)
                if isinstance(begun, StepJob):
                    return begun
                if not await self._store(session, run, step, steps, begun):
                    return None

    async def _work(self, job: StepJob) -> StepOutcome | None:
        """The step's work, with the lease renewed meanwhile and a cancel of the run passed on."""
        cancel = self.runtime.watch.cancel_signal(job.run_id)
        renewer = asyncio.create_task(self._renew(job.run_id))
        try:
            return await self.executors[job.spec.kind].work(job, cancel)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            self.runtime.watch.release(job.run_id)

    async def _renew(self, run_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            async with self.runtime.sessionmaker() as session, session.begin():
                await session.execute(
                    update(Run)
                    .where(Run.id == run_id, Run.lease_owner == self.owner)
                    .values(lease_until=utcnow() + self.lease)
                )
                status = (await runs.get(session, run_id)).status
            if status == RunStatus.CANCELLED:
                self.runtime.watch.cancel(run_id)

    async def _record(self, job: StepJob, outcome: StepOutcome) -> bool:
        """Stores a worked step's outcome; returns whether the run goes on with this worker."""
        async with self.runtime.sessionmaker() as session, session.begin():
            run = await runs.get(session, job.run_id, for_update=True)
            if run.lease_owner not in (self.owner, None):  # taken over meanwhile: the step is theirs
                return False
            steps = await runs.steps_of(session, job.run_id)
            step = next(s for s in steps if s.idx == job.idx)
            return await self._store(session, run, step, steps, outcome)

    async def _store(
        self, session: AsyncSession, run: Run, step: RunStep, steps: list[RunStep], outcome: StepOutcome
    ) -> bool:
        """Writes the outcome, and ends the run if that was its last step; False when it stops."""
        status = outcome.status
        if status == StepStatus.FAILED and run.status == RunStatus.CANCELLED:
            status = StepStatus.CANCELLED  # killed by the cancel, not failed on its own
        step.status, step.result = status, outcome.result
        if status != StepStatus.WAITING:
            step.finished_at = utcnow()
        await events.append(session, outcome.events)
        if outcome.run_action is not None:
            await runs.transition(session, run, outcome.run_action, payload=outcome.run_payload)
        if run.status != RunStatus.RUNNING:  # at a gate, paused or cancelled: no new step starts
            if run.status not in TERMINAL:
                run.lease_owner, run.lease_until = None, None
            return False
        if not any(s.status in OPEN_STEPS for s in steps):
            await runs.finish(session, run, steps)  # the last step: the run ends in this transaction
            return False
        return True

    async def _release(self, run_id: str) -> None:
        with contextlib.suppress(Exception):
            async with self.runtime.sessionmaker() as session, session.begin():
                await session.execute(
                    update(Run)
                    .where(Run.id == run_id, Run.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None)
                )

    async def _fail(self, run_id: str, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with self.runtime.sessionmaker() as session, session.begin():
                run = await runs.get(session, run_id, for_update=True)
                if run.status not in TERMINAL:
                    await runs.transition(session, run, RunAction.FAIL, reason=reason)

    async def stop(self) -> None:
        """Claims nothing more, and lets go of the runs in flight (another worker takes them over)."""
        self._stopped = True
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
