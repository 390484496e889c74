"""agent_skills: each skill attached to an agent, pinned by the digest of its folder

Revision ID: 0007_skill_pins
Revises: 0006_runs_recent
Create Date: 2026-12-02

No backfill: skills already in workspaces have no pin after the upgrade, so they are not run
until an admin re-attaches them (POST /agents/{id}/skills/attach). Pinning whatever the folders
hold at upgrade time would trust a skill a run may already have rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from talkative.db import UTCDateTime

revision: str = "0007_skill_pins"
down_revision: str | None = "0006_runs_recent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_skills",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("network_allowed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("attached_at", UTCDateTime(), nullable=False),
        sa.Column("attached_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "agent_id", "name", name=op.f("pk_agent_skills")),
    )


def downgrade() -> None:
    op.drop_table("agent_skills")
