from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from talkative.agents import service as agents
from talkative.agents.dependencies import TenantQuery
from talkative.approvals import service
from talkative.approvals.models import Approval
from talkative.approvals.schemas import ApprovalCreate, ApprovalPage, ApprovalRead
from talkative.auth.dependencies import Operator, Reader
from talkative.db import Session
from talkative.errors import ERROR_RESPONSES
from talkative.runs import service as runs

router = APIRouter(prefix="/approvals", tags=["approvals"], responses=ERROR_RESPONSES)


def approval_read(a: Approval) -> ApprovalRead:
    return ApprovalRead(
        id=a.id,
        tenant_id=a.tenant_id,
        agent_id=a.agent_id,
        run_id=a.run_id,
        step=a.step_idx,
        reason=a.reason,
        status=a.status,
        requested_at=a.requested_at,
        decided_at=a.decided_at,
        decided_by=a.decided_by,
        note=a.note,
    )


@router.get("", operation_id="listApprovals")
async def list_approvals(
    session: Session,
    principal: Reader,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["pending", "approved", "rejected", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    tenant_id: TenantQuery = None,
) -> ApprovalPage:
    rows = await service.list_approvals(
        session, tenant_id=principal.scope_for(tenant_id), agent_id=agent_id, status=status, limit=limit
    )
    return ApprovalPage(approvals=[approval_read(a) for a in rows])


@router.post("", status_code=201, operation_id="requestApproval")
async def request_approval(body: ApprovalCreate, session: Session, principal: Operator) -> ApprovalRead:
    """A manual approval request (the orchestrator creates its own before sensitive steps)."""
    scope = principal.scope_for(body.tenant_id)
    agent = await agents.get_agent(session=session, tenant_id=scope, agent_id=body.agent_id)
    if body.run_id is not None:
        await runs.get(session, body.run_id, tenant_id=agent.tenant_id)
    approval = await service.request(
        session, tenant_id=agent.tenant_id, agent_id=agent.id, run_id=body.run_id, reason=body.reason
    )
    return approval_read(approval)
