"""run_steps.node_id: the workflow node whose task a step executes (a node's status follows it)

Revision ID: 0015_step_nodes
Revises: 0014_rejected_runs
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_step_nodes"
down_revision: str | None = "0014_rejected_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Steps planned before this revision link to no node: their nodes keep their stored status.
    with op.batch_alter_table("run_steps") as batch:
        batch.add_column(sa.Column("node_id", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_steps") as batch:
        batch.drop_column("node_id")
