"""usage_ledger: a partial index of the holds in flight by run (releasing a run's holds)

Revision ID: 0011_usage_reserved
Revises: 0010_event_positions
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_usage_reserved"
down_revision: str | None = "0010_event_positions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RESERVED = sa.text("status = 'reserved'")


def upgrade() -> None:
    # Releasing a run's holds (a run that could not record its call, or whose process died) finds
    # them without reading the whole ledger; only rows in flight are in it, so it stays tiny.
    op.create_index(
        "ix_usage_ledger_reserved_run",
        "usage_ledger",
        ["run_id"],
        postgresql_where=_RESERVED,
        sqlite_where=_RESERVED,
    )


def downgrade() -> None:
    op.drop_index("ix_usage_ledger_reserved_run", table_name="usage_ledger")
