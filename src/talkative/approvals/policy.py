"""A tenant's approval policy: who may approve, how many must, by when, and what a deadline does.

One document per tenant (table approval_policies), validated here with bounds. Without one, an
approval is decided by any admin or operator of the tenant alone, the requester included (a
one-person business keeps working). With one, each approval goes through the policy's stages:
the current stage's approvers (a role or a named subject) vote, never the requester, once each;
`required` approve votes approve it, any reject vote rejects it; at the stage's deadline it is
escalated to the next stage (`on_deadline: escalate`) or expires, and its step is rejected. A
deadline never approves anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approvals.models import ApprovalPolicyRow
from talkative.db import utcnow
from talkative.errors import NotFound

MAX_STAGES = 5
MAX_SUBJECTS = 50
MAX_REQUIRED = 10
MAX_SECONDS = 90 * 24 * 3600  # 90 days: longer than any approval should wait

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ApproverRole = Literal["admin", "operator"]
Seconds = Annotated[int, Field(ge=1, le=MAX_SECONDS)]


class StagePolicy(BaseModel):
    """Who may approve at one stage, how many approve votes it needs, and its deadline."""

    model_config = ConfigDict(extra="forbid")

    roles: list[ApproverRole] = Field(
        default_factory=list, max_length=2, description="Any admin or operator of the tenant may approve"
    )
    subjects: list[Subject] = Field(
        default_factory=list, max_length=MAX_SUBJECTS, description="Named subjects (tokens' `sub`)"
    )
    required: int = Field(default=1, ge=1, le=MAX_REQUIRED, description="Distinct approve votes needed")
    deadline_s: Seconds | None = Field(
        default=None, description="Seconds from the stage's start after which it ends (never approved)"
    )
    remind_before_s: Seconds | None = Field(
        default=None, description="A reminder this many seconds before the deadline"
    )

    @model_validator(mode="after")
    def _possible(self) -> StagePolicy:
        if len(set(self.roles)) != len(self.roles) or len(set(self.subjects)) != len(self.subjects):
            raise ValueError("roles and subjects must not repeat")
        if not self.roles and not self.subjects:
            raise ValueError("a stage needs approvers: roles, subjects or both")
        if not self.roles and len(self.subjects) < self.required:
            raise ValueError(
                f"a stage that requires {self.required} approvals names only {len(self.subjects)} subject(s)"
            )
        if self.remind_before_s is not None:
            if self.deadline_s is None:
                raise ValueError("remind_before_s needs a deadline_s")
            if self.remind_before_s >= self.deadline_s:
                raise ValueError("remind_before_s must be shorter than deadline_s")
        return self


class ApprovalPolicy(BaseModel):
    """A tenant's approval policy (PUT /approval-policy)."""

    model_config = ConfigDict(extra="forbid")

    stages: list[StagePolicy] = Field(min_length=1, max_length=MAX_STAGES)
    on_deadline: Literal["reject", "escalate"] = Field(
        default="reject",
        description="At a stage's deadline: reject the step, or escalate to the next stage "
        "(after the last stage: reject)",
    )

    @model_validator(mode="after")
    def _escalation_has_somewhere_to_go(self) -> ApprovalPolicy:
        if self.on_deadline == "escalate":
            if len(self.stages) < 2:
                raise ValueError("on_deadline 'escalate' needs at least two stages")
            if any(s.deadline_s is None for s in self.stages[:-1]):
                raise ValueError("on_deadline 'escalate': every stage but the last needs a deadline_s")
        return self


class ApprovalPolicyRead(BaseModel):
    tenant_id: str
    policy: ApprovalPolicy
    updated_by: str
    updated_at: datetime


async def policy_of(session: AsyncSession, tenant_id: str) -> ApprovalPolicy | None:
    """The tenant's policy, None without one. A stored document that no longer validates (a
    bound tightened since) is read as the strictest policy: nobody but an admin decides, alone."""
    row = await session.get(ApprovalPolicyRow, tenant_id)
    if row is None:
        return None
    try:
        return ApprovalPolicy.model_validate(row.document)
    except ValidationError:
        return ApprovalPolicy(stages=[StagePolicy(roles=["admin"])])


async def read(session: AsyncSession, tenant_id: str) -> ApprovalPolicyRead:
    row = await session.get(ApprovalPolicyRow, tenant_id)
    if row is None:
        raise NotFound(f"tenant '{tenant_id}' has no approval policy", code="APPROVAL_POLICY_NOT_FOUND")
    policy = await policy_of(session, tenant_id)
    assert policy is not None
    return ApprovalPolicyRead(
        tenant_id=row.tenant_id, policy=policy, updated_by=row.updated_by, updated_at=row.updated_at
    )


async def put(session: AsyncSession, tenant_id: str, policy: ApprovalPolicy, by: str) -> ApprovalPolicyRead:
    """Sets the tenant's policy; approvals already asked keep their stage's approvers until their
    next escalation."""
    values = {
        "tenant_id": tenant_id,
        "document": policy.model_dump(mode="json"),
        "updated_by": by,
        "updated_at": utcnow(),
    }
    # One statement, so that two admins' first PUTs at once do not collide on the new row.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ApprovalPolicyRow).values(**values)
    changed = {k: statement.excluded[k] for k in ("document", "updated_by", "updated_at")}
    await session.execute(statement.on_conflict_do_update(index_elements=["tenant_id"], set_=changed))
    return ApprovalPolicyRead(
        tenant_id=tenant_id, policy=policy, updated_by=by, updated_at=values["updated_at"]
    )


async def remove(session: AsyncSession, tenant_id: str) -> None:
    deleted = await session.execute(delete(ApprovalPolicyRow).where(ApprovalPolicyRow.tenant_id == tenant_id))
    if getattr(deleted, "rowcount", 0) == 0:
        raise NotFound(f"tenant '{tenant_id}' has no approval policy", code="APPROVAL_POLICY_NOT_FOUND")
