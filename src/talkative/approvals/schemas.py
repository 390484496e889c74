from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

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


class ApprovalRead(BaseModel):
    id: str
    tenant_id: str
    agent_id: str
    run_id: str | None
    step: int | None
    reason: str
    status: str
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None


class ApprovalPage(BaseModel):
    approvals: list[ApprovalRead]
