"""runs.trace_parent: the W3C traceparent a run's steps continue (observability/tracing.py)

Revision ID: 0016_run_traces
Revises: 0015_step_nodes
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_run_traces"
down_revision: str | None = "0015_step_nodes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Runs opened before this revision have none: their steps start traces of their own.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("trace_parent", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("trace_parent")
