"""The approvals API (URLs under /approvals): the list, manual requests, and the decision that
resumes or settles the gated run.

It lives with the orchestration it drives and reads runs, not in the approvals package, so that
the approvals package stays below the runs and the orchestrator.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from talkative.agents import service as agents
from talkative.agents.dependencies import TenantQuery
from talkative.approvals import service
from talkative.approvals.models import ApprovalStatus
from talkative.approvals.schemas import ApprovalCreate, ApprovalPage, ApprovalRead, DecisionIn
from talkative.auth.dependencies import Approver, Operator, Reader
from talkative.db import Session
from talkative.deps import RuntimeDep
from talkative.errors import ERROR_RESPONSES
from talkative.orchestrator import control
from talkative.paging import CursorQuery
from talkative.runs import reads
from talkative.runs import service as runs

router = APIRouter(prefix="/approvals", tags=["approvals"], responses=ERROR_RESPONSES)


@router.get("", operation_id="listApprovals")
async def list_approvals(
    session: Session,
    principal: Reader,
    agent_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    run_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: ApprovalStatus | None = None,
    before: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many")] = 100,
    tenant_id: TenantQuery = None,
) -> ApprovalPage:
    """Pending requests first, then approved, rejected and cancelled ones, newest first in each
    group; each with who ended it, its run and the steps it guards. Page on with
    `before=next_before` while `has_more`."""
    rows, next_before = await service.approvals_page(
        session,
        tenant_id=principal.scope_for(tenant_id),
        agent_id=agent_id,
        run_id=run_id,
        status=status,
        before=before,
        limit=limit,
    )
    return ApprovalPage(
        approvals=await reads.approval_reads(session, rows),
        has_more=next_before is not None,
        next_before=next_before,
    )


@router.post("", status_code=201, operation_id="requestApproval")
async def request_approval(body: ApprovalCreate, session: Session, principal: Operator) -> ApprovalRead:
    """A manual approval request (the orchestrator creates its own before sensitive steps)."""
    scope = principal.scope_for(body.tenant_id)
    agent = await agents.get_agent(session=session, tenant_id=scope, agent_id=body.agent_id)
    if body.run_id is not None:
        await runs.get(session, body.run_id, tenant_id=agent.tenant_id)
    approval = await service.request(
        session,
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
        run_id=body.run_id,
        reason=body.reason,
        requested_by=principal.sub,
    )
    return (await reads.approval_reads(session, [approval]))[0]


@router.get("/{approval_id}", operation_id="getApproval")
async def get_approval(
    approval_id: Annotated[str, Path(min_length=1, max_length=64)], session: Session, principal: Reader
) -> ApprovalRead:
    """One approval with its run and gate (the page an emailed link opens reads it)."""
    approval = await service.get(session, approval_id, tenant_id=principal.tenant_filter)
    return (await reads.approval_reads(session, [approval]))[0]


@router.post("/{approval_id}/decision", operation_id="decideApproval")
async def decide(
    approval_id: Annotated[str, Path(min_length=1, max_length=64)],
    body: DecisionIn,
    principal: Approver,
    runtime: RuntimeDep,
    session: Session,
) -> ApprovalRead:
    """The decider is the token's subject; a request is decided once (409 after). Under the
    tenant's approval policy this is a vote: only the current stage's approvers, never the
    requester (403 SELF_APPROVAL, NOT_AN_APPROVER), once each (409 ALREADY_VOTED); the request is
    decided once enough approved, or at the first rejection."""
    approval = await control.decide(
        runtime,
        approval_id=approval_id,
        tenant_scope=principal.tenant_filter,
        decision=body.decision,
        decider=principal.sub,
        role=principal.role,
        note=body.note,
    )
    return (await reads.approval_reads(session, [approval]))[0]
