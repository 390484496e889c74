"""events: an agent's history in stream order (paging its event log backwards)

Revision ID: 0013_event_history
Revises: 0012_cluster
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_event_history"
down_revision: str | None = "0012_cluster"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ix_events_tenant_agent_id is in id order, which on PostgreSQL is not the stream's (xact, id).
    op.create_index("ix_events_tenant_agent_position", "events", ["tenant_id", "agent_id", "xact", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_tenant_agent_position", table_name="events")
