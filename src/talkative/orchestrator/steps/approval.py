"""An approval step: asks a human, and the run waits (control.py `decide` resumes it).

Under a tenant's approval policy that nobody can satisfy (approvals/policy.py), the approval ends
at once (expired) and the step is rejected here, as a human rejection would reject it: its guarded
steps are rejected and the run ends `rejected`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approvals import service as approvals
from talkative.approvals.models import ApprovalStatus
from talkative.db import utcnow
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.orchestrator.steps.base import Inline, StepOutcome
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import RunAction, StepStatus
from talkative.runs.specs import ApprovalSpec


class ApprovalExecutor(Inline):
    async def begin(self, session: AsyncSession, run: Run, step: RunStep) -> StepOutcome:
        spec = step.details
        assert isinstance(spec, ApprovalSpec)
        approval = await approvals.request(
            session,
            tenant_id=run.tenant_id,
            agent_id=run.agent_id,
            run_id=run.id,
            reason=spec.reason,
            step_idx=step.idx,
            requested_by=run.requested_by,
        )
        if approval.status != ApprovalStatus.PENDING:  # failed closed: nobody can approve it
            await reject_guarded(session, run, step)
            return StepOutcome(StepStatus.REJECTED, {"approval_id": approval.id, "expired": True})
        return StepOutcome(
            StepStatus.WAITING,
            {"approval_id": approval.id},
            run_action=RunAction.WAIT_APPROVAL,
            run_payload={"approval_id": approval.id, "step": step.idx},
        )


async def reject_guarded(session: AsyncSession, run: Run, gate: RunStep) -> None:
    """The steps a rejected (or expired) approval guarded are recorded rejected, not executed."""
    spec = gate.details
    assert isinstance(spec, ApprovalSpec)
    for idx in spec.guards:
        step = await session.get(RunStep, (run.id, idx))
        if step is not None and step.status == StepStatus.PENDING:
            step.status, step.finished_at = StepStatus.REJECTED, utcnow()
            step.result = {"rejected_by_approval": True}
            await events.append(
                session,
                [
                    NewEvent(
                        type=EventType.STEP_REJECTED,
                        tenant_id=run.tenant_id,
                        agent_id=run.agent_id,
                        run_id=run.id,
                        message=f"{step.name}: rejected, not executed",
                        payload={"step": step.idx, "name": step.name},
                    )
                ],
            )
