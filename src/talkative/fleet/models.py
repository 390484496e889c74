from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow
from talkative.events.models import JsonDoc


class Tenant(Base):
    """A registered tenant: the `tenant_id` tokens and every other row carry, with a display name."""

    __tablename__ = "fleet_tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Cloud(Base):
    """Where a tenant's nodes live (a provider and region); a grouping, nothing is called on it."""

    __tablename__ = "fleet_clouds"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_fleet_clouds_tenant_name"),)


class Node(Base):
    """A machine agents are provisioned onto: this one (`local`) or one reached over SSH."""

    __tablename__ = "fleet_nodes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    cloud_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("fleet_clouds.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(8))
    ssh_host: Mapped[str | None] = mapped_column(String(253), nullable=True)
    ssh_user: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ssh_port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # None for a local node: the server's TALKATIVE_FLEET_LOCAL_ROOT, read at provisioning time.
    base_path: Mapped[str | None] = mapped_column(String(512), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_fleet_nodes_tenant_name"),
        Index("ix_fleet_nodes_cloud", "cloud_id"),
    )


class FleetAgent(Base):
    """An agent definition to lay out on nodes (its own registry, apart from the running agents);
    like an agent, its identity is (tenant_id, id)."""

    __tablename__ = "fleet_agents"

    tenant_id: Mapped[str] = mapped_column(String(64))
    id: Mapped[str] = mapped_column(String(64))
    cloud_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("fleet_clouds.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    skills: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "id", name="pk_fleet_agents"),
        Index("ix_fleet_agents_tenant_created", "tenant_id", "created_at"),
        Index("ix_fleet_agents_cloud", "cloud_id"),
    )


class Placement(Base):
    """An agent laid out on a node: the outcome of its latest provisioning there."""

    __tablename__ = "fleet_placements"

    tenant_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(String(64), ForeignKey("fleet_nodes.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    skills: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    provisioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "agent_id", "node_id", name="pk_fleet_placements"),
        ForeignKeyConstraint(
            ["tenant_id", "agent_id"], ["fleet_agents.tenant_id", "fleet_agents.id"], ondelete="CASCADE"
        ),
        Index("ix_fleet_placements_node", "node_id"),
    )
