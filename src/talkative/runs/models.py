from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow
from talkative.events.models import JsonDoc
from talkative.runs import specs


class Run(Base):
    """One unit of agent work (a message, a heartbeat, a task) and where it stands."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64))
    parent_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    input: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32))
    subagent_state: Mapped[str] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What the reply needs besides steps and events: interpretation and applied patch.
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, nullable=True)
    # A worker owns a running run until its lease expires (a crashed worker's runs are taken over).
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The trace the run's steps continue, in whichever process works them (W3C traceparent).
    trace_parent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Who asked for the run (the token's subject, over HTTP or MCP); null for heartbeats and the
    # system. A delegated child run inherits its parent's.
    requested_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        Index("ix_runs_tenant_created", "tenant_id", "created_at"),
        Index("ix_runs_agent_created", "agent_id", "created_at"),
        Index("ix_runs_status_lease", "status", "lease_until"),
        Index("ix_runs_parent", "parent_run_id"),
        Index("ix_runs_created_id", "created_at", "id"),
    )


class RunStep(Base):
    """One planned step of a run; the plan is the steps not yet done, persisted step by step."""

    __tablename__ = "run_steps"

    run_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # The node of the agent's workflow whose task this step executes: its status follows the step.
    node_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def details(self) -> specs.StepSpec:
        """The spec, typed by the step's kind (specs.InvalidSpec if it does not fit)."""
        return specs.parse(self.kind, self.spec)


class RunCommand(Base):
    """Every command the orchestrator accepted (the commands half of a run's steps)."""

    __tablename__ = "run_commands"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_run_commands_run", "run_id", "created_at"),)
