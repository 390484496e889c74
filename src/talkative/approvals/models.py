from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow
from talkative.events.models import JsonDoc


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # its run ended before anyone decided
    EXPIRED = "expired"  # its deadline passed (or nobody could approve it): its step is rejected


# Who ended an approval nobody decided, when no person did (its run failed, say).
SYSTEM = "system"


class Approval(Base):
    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    step_idx: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ApprovalStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Who asked for the gated work (the run's requester); under a policy they never approve it.
    requested_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The tenant's policy as it applied to this approval's current stage: its approvers (roles and
    # subjects; null: no policy, any operator of the tenant decides alone), how many approve votes
    # it needs, its deadline and when to remind. Later policy changes apply to the next stage.
    approvers: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, nullable=True)
    required: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    stage: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reminded_stage: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_approvals_tenant_requested", "tenant_id", "requested_at"),
        Index("ix_approvals_run", "run_id"),
        Index("ix_approvals_status_deadline", "status", "deadline_at"),
    )


class ApprovalVote(Base):
    """One subject's vote on an approval under a policy: one per subject and approval."""

    __tablename__ = "approval_votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    approval_id: Mapped[str] = mapped_column(String(64), ForeignKey("approvals.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    stage: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("approval_id", "subject"),)


class ApprovalPolicyRow(Base):
    """A tenant's approval policy (approvals/policy.py validates the document)."""

    __tablename__ = "approval_policies"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
