"""event positions: the storing transaction's id per event, and a NOTIFY at commit

Events are served in (xact, id) order, and on PostgreSQL only once their transaction is older than
the reader's snapshot xmin, so no committed event is ever skipped (see events/positions.py).
Events stored before this revision get xact 0: they come first, in id order, as before.

On PostgreSQL a statement-level trigger notifies `talkative_events` with the transaction's id
(a position, never a payload); PostgreSQL delivers it at commit, once per transaction, to every
listening process.

Revision ID: 0010_event_positions
Revises: 0009_budget_caps
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_event_positions"
down_revision: str | None = "0009_budget_caps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "talkative_events"


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.add_column("events", sa.Column("xact", sa.BigInteger(), nullable=False, server_default=sa.text("0")))
    if _postgresql():
        op.execute("ALTER TABLE events ALTER COLUMN xact SET DEFAULT (pg_current_xact_id()::text::bigint)")
        op.execute(
            f"""
            CREATE FUNCTION talkative_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{CHANNEL}', pg_current_xact_id()::text);
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER events_notify AFTER INSERT ON events "
            "FOR EACH STATEMENT EXECUTE FUNCTION talkative_events_notify()"
        )
    op.create_index("ix_events_tenant_position", "events", ["tenant_id", "xact", "id"])
    op.create_index("ix_events_position", "events", ["xact", "id"])
    op.drop_index("ix_events_tenant_id_id", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_tenant_id_id", "events", ["tenant_id", "id"])
    op.drop_index("ix_events_position", table_name="events")
    op.drop_index("ix_events_tenant_position", table_name="events")
    if _postgresql():
        op.execute("DROP TRIGGER events_notify ON events")
        op.execute("DROP FUNCTION talkative_events_notify()")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("xact")
