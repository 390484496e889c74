"""runs: `rejected`, the end of a run a human rejected a step of; approvals name who ended them

Until now a run whose approval was rejected ended `completed`, like an approved one, and an
approval cancelled with its run named nobody. Statuses are plain strings (no constraint to
change): this rewrites the history so that it reads as new runs and approvals will.

Revision ID: 0014_rejected_runs
Revises: 0013_event_history
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_rejected_runs"
down_revision: str | None = "0013_event_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE runs SET status = 'rejected' WHERE status = 'completed' AND EXISTS "
            "(SELECT 1 FROM run_steps s WHERE s.run_id = runs.id AND s.status = 'rejected')"
        )
    )
    op.execute(
        sa.text(
            "UPDATE approvals SET decided_by = 'system' WHERE status = 'cancelled' AND decided_by IS NULL"
        )
    )


def downgrade() -> None:
    # An older version knows no `rejected` run; such a run ended without failing, as it says.
    op.execute(sa.text("UPDATE runs SET status = 'completed' WHERE status = 'rejected'"))
