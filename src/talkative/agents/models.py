from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Index, Integer, PrimaryKeyConstraint, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow


class AgentStatus(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"  # takes messages; its heartbeat is scheduled


class Agent(Base):
    """A tenant's agent: its identity is (tenant_id, id), so two tenants may each use an id."""

    __tablename__ = "agents"

    tenant_id: Mapped[str] = mapped_column(String(64))
    id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=AgentStatus.STOPPED)
    heartbeat_minutes: Mapped[int] = mapped_column(Integer, default=30)
    workspace: Mapped[str] = mapped_column(String(512))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id", name="pk_agents"),
        # Two agents never share a folder (the path holds the tenant's folder, see agents.workspace).
        UniqueConstraint("tenant_id", "workspace", name="uq_agents_tenant_workspace"),
        # A platform admin's lookup by id alone (is it ambiguous?) and the legacy importer's.
        Index("ix_agents_id", "id"),
        Index("ix_agents_tenant_created", "tenant_id", "created_at"),
        Index("ix_agents_status_next_heartbeat", "status", "next_heartbeat_at"),
    )


class AgentSkill(Base):
    """A skill an admin attached to an agent, pinned: the digest of its folder then, and the approval
    policy it declared. A skill whose folder no longer has that digest is not run (skills/pins.py)."""

    __tablename__ = "agent_skills"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    requires_approval: Mapped[bool] = mapped_column(Boolean)
    # An admin let the skill reach the hosts its (pinned) SKILL.md declares, through the egress proxy.
    network_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attached_by: Mapped[str] = mapped_column(String(200))
