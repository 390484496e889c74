"""agents registry

Revision ID: 0001_agents
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from talkative.db import UTCDateTime

revision: str = "0001_agents"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("heartbeat_minutes", sa.Integer(), nullable=False),
        sa.Column("workspace", sa.String(512), nullable=False),
        sa.Column("last_heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("last_message_at", UTCDateTime(), nullable=True),
        sa.Column("last_message", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_index("ix_agents_tenant_created", "agents", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_agents_tenant_created", table_name="agents")
    op.drop_table("agents")
