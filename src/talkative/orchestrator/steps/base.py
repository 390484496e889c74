"""What the worker asks of each kind of step, and what a step hands back.

A step runs in up to two phases. `begin` runs in the transaction that marks the step running: a
step that needs nothing outside the database (a task, an approval request) ends there with its
outcome. Otherwise it returns a `StepJob`, which `work` carries out outside any transaction while
the worker holds the run's lease; the worker then stores the outcome in a transaction of its own,
only if the step is still at the job's attempt and no other worker holds the run (see `Worker._record`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.events.schemas import NewEvent
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import RunAction, StepKind, StepStatus
from talkative.runs.specs import StepSpec


@dataclass(frozen=True)
class StepJob:
    """A started step, as `work` needs it (no ORM objects: it runs outside the transaction)."""

    run_id: str
    tenant_id: str
    agent_id: str
    idx: int
    # The step's attempt this job is (1 the first time; a takeover begins it again, one more): its
    # outcome is written only if still current.
    attempt: int
    spec: StepSpec
    workspace: str = ""  # the agent's workspace, relative to the data dir (tool steps)
    trace_parent: str | None = None  # the run's trace, which the step's span continues
    run_kind: str = ""

    @classmethod
    def of(cls, run: Run, step: RunStep, workspace: str = "") -> StepJob:
        return cls(
            run.id,
            run.tenant_id,
            run.agent_id,
            step.idx,
            step.attempts,
            step.details,
            workspace,
            run.trace_parent,
            run.kind,
        )

    @property
    def idempotency_key(self) -> str:
        """The same in every attempt of this step, different in every other step of any run."""
        return f"{self.run_id}:{self.idx}"

    def event(self, type_: str, message: str, payload: dict[str, Any]) -> NewEvent:
        return NewEvent(
            type=type_,
            tenant_id=self.tenant_id,
            agent_id=self.agent_id,
            run_id=self.run_id,
            message=message,
            payload=payload,
        )


@dataclass(frozen=True)
class StepOutcome:
    """How a step ended: its status and result, its events, and the run's change if it causes one."""

    status: StepStatus
    result: dict[str, Any]
    events: list[NewEvent] = field(default_factory=list)
    run_action: RunAction | None = None  # e.g. WAIT_APPROVAL: the run stops at a human gate
    run_payload: dict[str, Any] = field(default_factory=dict)


class StepExecutor(Protocol):
    async def begin(self, session: AsyncSession, run: Run, step: RunStep) -> StepOutcome | StepJob:
        """In the transaction that starts the step (its events may be stored in `session`)."""

    async def work(self, job: StepJob, cancel: asyncio.Event) -> StepOutcome | None:
        """Outside any transaction, under the run's lease; `cancel` is set when the run is cancelled.
        None: the run stopped meanwhile (paused or cancelled) and the step is left to resume later."""


Executors = Mapping[StepKind, StepExecutor]


class Inline:
    """Base of the executors whose steps end in `begin`."""

    async def work(self, job: StepJob, cancel: asyncio.Event) -> StepOutcome | None:
        raise AssertionError(f"a {job.spec.kind} step ends when it begins")
