"""approval channels: email recipients of approval requests (with a cursor) and their delivery log

Revision ID: 0020_approval_channels
Revises: 0019_approval_policy
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_approval_channels"
down_revision: str | None = "0019_approval_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "approval_email_recipients",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cursor_xact", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("cursor_id", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_email_recipients")),
        sa.UniqueConstraint("tenant_id", "address", name=op.f("uq_approval_email_recipients_tenant_id")),
    )
    op.create_index(
        "ix_approval_email_recipients_tenant_created",
        "approval_email_recipients",
        ["tenant_id", "created_at"],
    )
    op.create_table(
        "approval_email_deliveries",
        sa.Column("id", EventId, autoincrement=True, nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_xact", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("approval_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["approval_email_recipients.id"],
            name=op.f("fk_approval_email_deliveries_recipient_id_approval_email_recipients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_email_deliveries")),
        sa.UniqueConstraint(
            "recipient_id", "event_id", name=op.f("uq_approval_email_deliveries_recipient_id")
        ),
    )
    op.create_index(
        "ix_approval_email_deliveries_recipient_status",
        "approval_email_deliveries",
        ["recipient_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_approval_email_deliveries_recipient_status", table_name="approval_email_deliveries")
    op.drop_table("approval_email_deliveries")
    op.drop_index("ix_approval_email_recipients_tenant_created", table_name="approval_email_recipients")
    op.drop_table("approval_email_recipients")
