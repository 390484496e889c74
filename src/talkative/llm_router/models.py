from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow
from talkative.events.models import EventId, JsonDoc


class RouterConfig(Base):
    """Every saved version of the rules and of the budgets; the newest of each kind is in force."""

    __tablename__ = "router_config"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # rules | budgets
    doc: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_router_config_kind_id", "kind", "id"),)


class UsageRow(Base):
    """One model call: what it cost and how it went (a `reserved` row is a call in flight, a
    `released` one a hold let go without an outcome: its run could not record one)."""

    __tablename__ = "usage_ledger"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str] = mapped_column(String(160))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16))  # ok | error | reserved | released
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_usage_ledger_tenant_id", "tenant_id", "id"),
        Index("ix_usage_ledger_agent_id", "agent_id", "id"),
        Index("ix_usage_ledger_created", "created_at"),
        # The holds in flight, by run (few at any time): what releasing a run's holds looks up.
        Index(
            "ix_usage_ledger_reserved_run",
            "run_id",
            postgresql_where=text("status = 'reserved'"),
            sqlite_where=text("status = 'reserved'"),
        ),
    )


class UsageDaily(Base):
    """Per day, tenant, agent and model totals, kept in step with the ledger in the same transaction,
    so metrics and budget checks read a few rows whatever the size of the ledger."""

    __tablename__ = "usage_daily"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    tenant_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64))  # "" when the call had no agent
    model: Mapped[str] = mapped_column(String(160))
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        UniqueConstraint("day", "tenant_id", "agent_id", "model", name="uq_usage_daily_key"),
        Index("ix_usage_daily_tenant_day", "tenant_id", "day"),
    )
