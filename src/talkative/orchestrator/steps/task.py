"""A task step: a task no skill runs, recorded as executed (after its approval, if it had one)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.events.schemas import EventType
from talkative.orchestrator.steps.base import Inline, StepJob, StepOutcome
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import StepStatus


class TaskExecutor(Inline):
    async def begin(self, session: AsyncSession, run: Run, step: RunStep) -> StepOutcome:
        executed = StepJob.of(run, step).event(EventType.TASK_EXECUTED, step.name, {"step": step.idx})
        return StepOutcome(StepStatus.DONE, {"executed": True}, [executed])
