"""The approval decision route (URL under /approvals): a decision resumes or settles the gated run.

It lives with the orchestration it drives, not in `approvals/router.py`, so that the approvals
package stays below the runs and the orchestrator.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from talkative.approvals.schemas import ApprovalRead, DecisionIn
from talkative.auth.dependencies import Approver
from talkative.db import Session
from talkative.deps import RuntimeDep
from talkative.errors import ERROR_RESPONSES
from talkative.orchestrator import control
from talkative.runs import reads

router = APIRouter(prefix="/approvals", tags=["approvals"], responses=ERROR_RESPONSES)


@router.post("/{approval_id}/decision", operation_id="decideApproval")
async def decide(
    approval_id: Annotated[str, Path(min_length=1, max_length=64)],
    body: DecisionIn,
    principal: Approver,
    runtime: RuntimeDep,
    session: Session,
) -> ApprovalRead:
    """The decider is the token's subject; a request is decided once (409 after)."""
    approval = await control.decide(
        runtime,
        approval_id=approval_id,
        tenant_scope=principal.tenant_filter,
        decision=body.decision,
        decider=principal.sub,
        note=body.note,
    )
    return (await reads.approval_reads(session, [approval]))[0]
