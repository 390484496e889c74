"""cluster: the cluster's id and the process registry

`cluster` holds one row, the id the first process writes into the shared workspaces root's
marker; `processes` one row per running process (its roles, when the database last saw it, and
a fingerprint of its signing secret). Both are used on PostgreSQL only (cluster/registry.py).

Revision ID: 0012_cluster
Revises: 0011_usage_reserved
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_cluster"
down_revision: str | None = "0011_usage_reserved"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster",
        sa.Column("key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cluster_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("key = 1", name=op.f("ck_cluster_one_row")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cluster")),
    )
    op.create_table(
        "processes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("roles", sa.String(length=64), nullable=False),
        sa.Column("secret_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processes")),
    )
    op.create_index(op.f("ix_processes_seen_at"), "processes", ["seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_processes_seen_at"), table_name="processes")
    op.drop_table("processes")
    op.drop_table("cluster")
