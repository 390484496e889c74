"""llm router: config versions, usage ledger, daily rollup

Revision ID: 0004_llm_router
Revises: 0003_orchestrator
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from talkative.db import UTCDateTime
from talkative.events.models import EventId, JsonDoc

revision: str = "0004_llm_router"
down_revision: str | None = "0003_orchestrator"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "router_config",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("doc", JsonDoc, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_router_config")),
    )
    op.create_index("ix_router_config_kind_id", "router_config", ["kind", "id"])
    op.create_table(
        "usage_ledger",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("model", sa.String(160), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_ledger")),
    )
    op.create_index("ix_usage_ledger_tenant_id", "usage_ledger", ["tenant_id", "id"])
    op.create_index("ix_usage_ledger_agent_id", "usage_ledger", ["agent_id", "id"])
    op.create_index("ix_usage_ledger_created", "usage_ledger", ["created_at"])
    op.create_table(
        "usage_daily",
        sa.Column("id", EventId, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(160), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_daily")),
        sa.UniqueConstraint("day", "tenant_id", "agent_id", "model", name="uq_usage_daily_key"),
    )
    op.create_index("ix_usage_daily_tenant_day", "usage_daily", ["tenant_id", "day"])


def downgrade() -> None:
    op.drop_table("usage_daily")
    op.drop_table("usage_ledger")
    op.drop_table("router_config")
