"""/approval-policy: a tenant's admins set who approves, how many, by when; its members read it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from talkative.approvals import policy
from talkative.approvals.policy import ApprovalPolicy, ApprovalPolicyRead
from talkative.auth.dependencies import ApprovalPolicyAdmin, Reader
from talkative.db import Session
from talkative.errors import ERROR_RESPONSES

router = APIRouter(prefix="/approval-policy", tags=["approvals"], responses=ERROR_RESPONSES)
PolicyTenant = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        description="The tenant: a platform admin names it (default: the default tenant); any "
        "other caller may only name its own",
    ),
]


@router.get("", operation_id="getApprovalPolicy")
async def get_policy(
    session: Session, principal: Reader, tenant_id: PolicyTenant = None
) -> ApprovalPolicyRead:
    """The tenant's approval policy (404 APPROVAL_POLICY_NOT_FOUND without one: any admin or
    operator of the tenant then approves alone)."""
    return await policy.read(session, principal.owning_tenant(tenant_id))


@router.put("", operation_id="putApprovalPolicy")
async def put_policy(
    body: ApprovalPolicy, session: Session, principal: ApprovalPolicyAdmin, tenant_id: PolicyTenant = None
) -> ApprovalPolicyRead:
    """Sets the policy (admins): new approvals follow it; pending ones keep their current stage's
    approvers and follow it from their next escalation. A policy nobody could satisfy is a 422."""
    return await policy.put(session, principal.owning_tenant(tenant_id), body, principal.sub)


@router.delete("", status_code=204, operation_id="deleteApprovalPolicy")
async def delete_policy(
    session: Session, principal: ApprovalPolicyAdmin, tenant_id: PolicyTenant = None
) -> Response:
    """Removes the policy (admins): new approvals are decided by any admin or operator alone."""
    await policy.remove(session, principal.owning_tenant(tenant_id))
    return Response(status_code=204)
