from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ApprovalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    agent_id: Slug
    run_id: Slug | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "rejected"]
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ApprovalRun(BaseModel):
    """The run an approval gates, as it stands now."""

    run_id: str
    agent_id: str
    kind: str
    status: str
    input: str


class GuardedStep(BaseModel):
    """A step an approval guards: what would be done once approved."""

    idx: int
    kind: str = Field(description="tool, task or delegate")
    name: str
    status: str
    skill: str | None = Field(default=None, description="The skill a tool step runs")
    command: str | None = Field(default=None, description="The command a tool step runs")
    task: str | None = Field(default=None, description="The task a task step records")
    target_agent_id: str | None = Field(default=None, description="The agent a delegate step asks")


class ApprovalGate(BaseModel):
    """The approval step of the run and the steps it guards."""

    idx: int
    name: str
    task: str
    status: str
    guards: list[GuardedStep]


class VoteRead(BaseModel):
    """One approver's vote on an approval under the tenant's policy."""

    subject: str
    role: str
    decision: str = Field(description="approved or rejected")
    stage: int
    note: str | None
    at: datetime


class Approvers(BaseModel):
    """Who may approve at the approval's current stage."""

    roles: list[str]
    subjects: list[str]


class ApprovalRead(BaseModel):
    id: str
    tenant_id: str
    agent_id: str
    run_id: str | None
    step: int | None = Field(description="The index of the run's approval step")
    reason: str
    status: str = Field(description="pending, approved, rejected, cancelled or expired")
    requested_at: datetime
    decided_at: datetime | None = Field(description="When it was decided or cancelled")
    decided_by: str | None = Field(
        description="Who decided (the token's subject) or cancelled its run; `system` when no person "
        "ended it; null only while pending"
    )
    note: str | None
    requested_by: str | None = Field(
        default=None, description="Who asked for the gated work (null: the system, or from before)"
    )
    policy: bool = Field(
        default=False, description="Whether the tenant's approval policy governs it (votes, stages)"
    )
    required: int = Field(default=1, description="Approve votes its current stage needs")
    stage: int = Field(default=0, description="Its current stage of the policy (0 the first)")
    deadline_at: datetime | None = Field(
        default=None, description="When its current stage ends unapproved (escalated or expired)"
    )
    approvers: Approvers | None = Field(default=None, description="Who may approve at its current stage")
    votes: list[VoteRead] = Field(default_factory=list, description="Votes so far, oldest first")
    run: ApprovalRun | None = Field(default=None, description="The gated run (null: a manual request)")
    gate: ApprovalGate | None = Field(default=None, description="The approval step and what it guards")


class ApprovalPage(BaseModel):
    """Pending approvals first, then ended ones; each group newest first."""

    approvals: list[ApprovalRead]
    has_more: bool = Field(default=False, description="Whether more match: ask with `before`")
    next_before: str | None = Field(
        default=None, description="The cursor to pass as `before` for the next page"
    )
