"""approval policy: per-tenant policies, votes, stages, deadlines and reminders; runs' requester

Revision ID: 0019_approval_policy
Revises: 0018_mcp_servers
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019_approval_policy"
down_revision: str | None = "0018_mcp_servers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JsonDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # Runs and approvals from before know no requester; approvals from before had no policy
    # (null approvers: any operator decides alone, as they were asked).
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("requested_by", sa.String(200), nullable=True))
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("requested_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("approvers", JsonDoc, nullable=True))
        batch.add_column(sa.Column("required", sa.Integer(), server_default=sa.text("1"), nullable=False))
        batch.add_column(sa.Column("stage", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reminded_stage", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_approvals_status_deadline", "approvals", ["status", "deadline_at"])
    op.create_table(
        "approval_votes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("approval_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_approval_votes_approval_id_approvals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_votes")),
        sa.UniqueConstraint("approval_id", "subject", name=op.f("uq_approval_votes_approval_id")),
    )
    op.create_table(
        "approval_policies",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("document", JsonDoc, nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_approval_policies")),
    )


def downgrade() -> None:
    op.drop_table("approval_policies")
    op.drop_table("approval_votes")
    op.drop_index("ix_approvals_status_deadline", table_name="approvals")
    # Expired approvals read as rejected ones did before (their steps were rejected).
    op.execute("UPDATE approvals SET status = 'rejected' WHERE status = 'expired'")
    with op.batch_alter_table("approvals") as batch:
        for column in (
            "reminded_at",
            "reminded_stage",
            "remind_at",
            "deadline_at",
            "stage",
            "required",
            "approvers",
            "requested_by",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("requested_by")
