"""A delegate step: another agent of the tenant does the work in a child run; the step waits for it.

Agents never talk to each other directly: the orchestrator opens the child run and watches it.
Opening runs is the flows' work; this executor receives `start_child` when it is wired.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.events import service as events
from talkative.events.schemas import EventType
from talkative.orchestrator.steps.base import StepJob, StepOutcome
from talkative.runs import service as runs
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import TERMINAL, RunStatus, StepStatus
from talkative.runs.specs import DelegateSpec
from talkative.runtime import Runtime

CHILD_POLL_S = 0.5
# The delegating step ends as its child did; a child a human rejected rejects the step (and so the
# parent run), anything else that did not complete fails it.
_CHILD_OUTCOME = {RunStatus.COMPLETED: StepStatus.DONE, RunStatus.REJECTED: StepStatus.REJECTED}


@dataclass(frozen=True)
class ChildRequest:
    tenant_id: str
    agent_id: str  # the agent asked to do the work
    text: str
    parent_run_id: str


StartChild = Callable[[ChildRequest], Awaitable[str]]  # opens the child run, returns its id


class DelegateExecutor:
    def __init__(self, runtime: Runtime, start_child: StartChild) -> None:
        self.runtime = runtime
        self.start_child = start_child

    async def begin(self, session: AsyncSession, run: Run, step: RunStep) -> StepJob:
        return StepJob.of(run, step)

    async def work(self, job: StepJob, cancel: asyncio.Event) -> StepOutcome | None:
        """Starts the child run once (its id is kept in the step), then waits for its outcome."""
        spec = job.spec
        assert isinstance(spec, DelegateSpec)
        child_id = spec.child_run_id
        if child_id is None:
            request = ChildRequest(job.tenant_id, spec.target_agent_id, spec.text, job.run_id)
            try:
                child_id = await self.start_child(request)
            except Exception as exc:  # the target is gone or stopped: the step fails, and says why
                message = getattr(exc, "message", str(exc))
                finished = job.event(EventType.DELEGATION_FINISHED, message, {"error": message})
                return StepOutcome(StepStatus.FAILED, {"error": message}, [finished])
            await self._record_child(job, spec, child_id)
        return await self._wait(job, spec, child_id)

    async def _record_child(self, job: StepJob, spec: DelegateSpec, child_id: str) -> None:
        """Kept before waiting, so that a worker taking the run over waits for this child (unless
        it already began the step again: then the step is its own, and this worker's outcome will
        not be written either)."""
        async with self.runtime.sessionmaker() as session, session.begin():
            step = await session.get(RunStep, (job.run_id, job.idx), with_for_update=True)
            assert step is not None
            if step.status != StepStatus.RUNNING or step.attempts != job.attempt:
                return
            step.spec = spec.model_copy(update={"child_run_id": child_id}).dump()
            target = spec.target_agent_id
            payload = {"child_run_id": child_id, "target_agent_id": target}
            await events.append(
                session, [job.event(EventType.DELEGATION_STARTED, f"delegated to {target}", payload)]
            )

    async def _wait(self, job: StepJob, spec: DelegateSpec, child_id: str) -> StepOutcome | None:
        while True:
            async with self.runtime.sessionmaker() as session:
                child = await runs.get(session, child_id)
                parent_status = (await runs.get(session, job.run_id)).status
            if child.status in TERMINAL:
                result = {
                    "child_run_id": child_id,
                    "status": child.status,
                    "reply": child.reply,
                    "error": child.last_error,
                }
                message = f"{spec.target_agent_id} finished: {child.status}"
                finished = job.event(EventType.DELEGATION_FINISHED, message, result)
                return StepOutcome(
                    _CHILD_OUTCOME.get(RunStatus(child.status), StepStatus.FAILED), result, [finished]
                )
            if parent_status != RunStatus.RUNNING:
                return None  # paused or cancelled: resumed later, the child keeps its own course
            await self.runtime.watch.changed(child_id, CHILD_POLL_S)
