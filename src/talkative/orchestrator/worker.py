"""The run worker: claim a run, run its steps one by one, persist each, repeat.

Its boundary is the database: a run is claimed with a lease (renewed while a step works), every
step's start and outcome is committed before the next one begins, and a run whose worker died is
taken over when its lease expires (by the database's clock), continuing from the first step not
done. A worker that lost a run meanwhile (frozen past its lease) stops its step and writes nothing:
every outcome is fenced by the run's owner and the step's attempt (leases.py). Runs reach the
worker one way only: a flow commits a planned run and wakes it; it claims what nobody holds. A run
whose planner stopped during the model call is claimed too, once its planner's lease expires, and
failed. Each kind of step runs through its executor (steps/), looked up by kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import db_now
from talkative.events import service as events
from talkative.llm_router import service as llm
from talkative.observability import tracing
from talkative.observability.metrics import LEASE_TAKEOVERS
from talkative.orchestrator import leases
from talkative.orchestrator.steps.base import Executors, StepJob, StepOutcome
from talkative.runs import service as runs
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import OPEN_STEPS, TERMINAL, RunAction, RunStatus, StepKind, StepStatus
from talkative.runtime import Runtime

log = logging.getLogger("talkative.worker")
MAX_ATTEMPTS = 3  # a step interrupted this many times (its worker died each time) fails
# Runs still held that no worker drives: ended, paused or never planned while their holder stopped.
NOT_RUNNING = tuple(status for status in RunStatus if status != RunStatus.RUNNING)


class Worker:
    def __init__(self, runtime: Runtime, executors: Executors) -> None:
        self.runtime = runtime
        self.executors = executors
        self.owner = leases.holder("worker")
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
        """Takes the lease of up to `limit` runs, oldest first: running runs nobody holds or whose
        holder's lease expired, and runs not running whose holder's lease expired (a planner that
        stopped during the model call, a worker that stopped after a pause). Rows another worker
        has locked are skipped, not waited for, and the lease is taken in the same transaction:
        two workers never both start one run."""
        async with self.runtime.sessionmaker() as session, session.begin():
            now = await db_now(session)
            expired = Run.lease_until < now
            runnable = (Run.status == RunStatus.RUNNING) & (Run.lease_until.is_(None) | expired)
            left_held = Run.status.in_(NOT_RUNNING) & expired
            query = (
                select(Run.id, Run.lease_owner)
                .where(runnable | left_held, Run.id.not_in(list(self._active)))
                .order_by(Run.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = (await session.execute(query)).all()
            if rows:
                await session.execute(
                    update(Run)
                    .where(Run.id.in_([run_id for run_id, _ in rows]))
                    .values(lease_owner=self.owner, lease_until=now + self.lease)
                )
        for run_id, previous in rows:
            if previous is not None and previous != self.owner:
                LEASE_TAKEOVERS.inc()
                log.info("run %s taken over from %s (its lease expired)", run_id, previous)
        return [run_id for run_id, _ in rows]

    async def _drive(self, run_id: str) -> None:
        """Runs the claimed run's steps until it ends, stops at a gate, or is paused or cancelled.
        Whichever transaction decides to stop also lets go of the lease."""
        let_go = False
        try:
            while (job := await self._next_job(run_id)) is not None:
                outcome = await self._work(job)
                if outcome is None:  # the run stopped, or was lost, while the step worked
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
                if run.lease_owner != self.owner:
                    return None  # taken over after this worker's lease expired: the run is theirs
                if not runs.planned(run):
                    await self._give_up_plan(session, run)
                    return None
                if run.status != RunStatus.RUNNING:
                    run.lease_owner, run.lease_until = None, None
                    return None
                now = await db_now(session)
                steps = await runs.steps_of(session, run_id)
                step = next((s for s in steps if s.status in OPEN_STEPS), None)
                if step is None:
                    await runs.finish(session, run, steps)
                    return None
                if step.status == StepStatus.RUNNING and step.attempts >= MAX_ATTEMPTS:
                    error = {"error": "interrupted too many times"}
                    step.status, step.result, step.finished_at = StepStatus.FAILED, error, now
                    continue
                step.status, step.attempts, step.started_at = StepStatus.RUNNING, step.attempts + 1, now
                run.lease_until = now + self.lease
                begun = await self.executors[StepKind(step.kind)].begin(session, run, step)
                if isinstance(begun, StepJob):
                    return begun
                if not await self._store(session, run, step, steps, begun):
                    return None

    async def _give_up_plan(self, session: AsyncSession, run: Run) -> None:
        """A run opened for a remote model call whose planner's lease expired before the plan was
        recorded: it fails saying so, and the call's budget hold is released (its cost is unknown;
        held forever it would count against the caps forever)."""
        log.warning("run %s: %s; failing it", run.id, leases.PLANNER_STOPPED)
        if run.status not in TERMINAL:
            await runs.transition(session, run, RunAction.FAIL, reason=leases.PLANNER_STOPPED)
        await llm.release_run_reservations(session, run.id, reason=leases.PLANNER_STOPPED)
        run.lease_owner, run.lease_until = None, None

    async def _work(self, job: StepJob) -> StepOutcome | None:
        """The step's work, with the lease renewed meanwhile; None if the lease was lost.

        A cancel of the run is passed on. So is a lost lease (another worker took the run over, or
        no renewal got through for a whole lease): the tool is killed at once and its outcome is
        not written; the step is run again by whoever holds the run next."""
        cancel = self.runtime.watch.cancel_signal(job.run_id)
        lost: list[str] = []

        def let_go(run: Run | None) -> None:
            if run is None or run.lease_owner is not None or run.status not in TERMINAL:
                lost.append("the lease was lost" if run is None else leases.holding(run))
                log.warning("run %s: %s; stopping its step", job.run_id, lost[0])
            cancel.set()  # otherwise the run ended meanwhile (cancelled or failed from outside)

        try:
            with _step_span(job) as span:
                async with leases.kept(self.runtime, job.run_id, self.owner, let_go):
                    outcome = await self.executors[job.spec.kind].work(job, cancel)
                if outcome is not None:
                    span.set_attribute("talkative.step_status", str(outcome.status))
                    if outcome.status == StepStatus.FAILED:
                        tracing.failed(span, "step_failed")
        finally:
            self.runtime.watch.release(job.run_id)
        if lost:
            leases.refuse("step", job.run_id, self.owner, f"step {job.idx}, attempt {job.attempt}: {lost[0]}")
            return None
        return outcome

    async def _record(self, job: StepJob, outcome: StepOutcome) -> bool:
        """Stores a worked step's outcome; returns whether the run goes on with this worker.

        Fenced: written only if the step is still running at the job's attempt and no other worker
        holds the run (this worker does, or nobody since the run ended, cancelled while the step
        worked). A worker frozen past its lease writes nothing, since whoever took the run over
        holds it or began the step again."""
        async with self.runtime.sessionmaker() as session, session.begin():
            run = await runs.get(session, job.run_id, for_update=True)
            steps = await runs.steps_of(session, job.run_id)
            step = next(s for s in steps if s.idx == job.idx)
            ours = run.lease_owner == self.owner or (run.lease_owner is None and run.status in TERMINAL)
            if not ours or step.status != StepStatus.RUNNING or step.attempts != job.attempt:
                now = f"step {job.idx} is {step.status} at attempt {step.attempts}, {leases.holding(run)}"
                leases.refuse("step", job.run_id, self.owner, f"attempt {job.attempt}'s outcome: {now}")
                return False
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
            step.finished_at = await db_now(session)
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
                if run.status not in TERMINAL and run.lease_owner == self.owner:  # not if taken over
                    await runs.transition(session, run, RunAction.FAIL, reason=reason)

    async def stop(self) -> None:
        """Claims nothing more, and lets go of the runs in flight (another worker takes them over)."""
        self._stopped = True
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _step_span(job: StepJob) -> contextlib.AbstractContextManager[tracing.Span]:
    """A step's span, a child of its run's opening wherever the run was opened."""
    return tracing.span(
        f"run.step {job.spec.kind}",
        parent=tracing.context_of(job.trace_parent),
        attributes={
            "talkative.run_id": job.run_id,
            "talkative.run_kind": job.run_kind,
            "talkative.agent_id": job.agent_id,
            "talkative.tenant_id": job.tenant_id,
            "talkative.step_index": job.idx,
            "talkative.step_attempt": job.attempt,
        },
    )
