"""An approval step: asks a human, and the run waits (control.py `decide` resumes it)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approvals import service as approvals
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
        )
        return StepOutcome(
            StepStatus.WAITING,
            {"approval_id": approval.id},
            run_action=RunAction.WAIT_APPROVAL,
            run_payload={"approval_id": approval.id, "step": step.idx},
        )
