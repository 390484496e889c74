"""orchestrator: run plans, leases and commands; approvals; prompts; channels

Revision ID: 0003_orchestrator
Revises: 0002_agent_loop
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from talkative.db import UTCDateTime
from talkative.events.models import JsonDoc

revision: str = "0003_orchestrator"
down_revision: str | None = "0002_agent_loop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("reply", sa.Text(), nullable=True))
        batch.add_column(sa.Column("result", JsonDoc, nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("finished_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_runs_status_lease", ["status", "lease_until"])
        batch.create_index("ix_runs_parent", ["parent_run_id"])

    op.create_table(
        "run_steps",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("spec", JsonDoc, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", JsonDoc, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], ondelete="CASCADE", name=op.f("fk_run_steps_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "idx", name=op.f("pk_run_steps")),
    )
    op.create_table(
        "run_commands",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", JsonDoc, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_commands")),
    )
    op.create_index("ix_run_commands_run", "run_commands", ["run_id", "created_at"])

    op.create_table(
        "approvals",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("step_idx", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index("ix_approvals_tenant_requested", "approvals", ["tenant_id", "requested_at"])
    op.create_index("ix_approvals_run", "approvals", ["run_id"])

    op.create_table(
        "prompts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("tenant_id", "agent_id", "version", name="uq_prompts_agent_version"),
    )
    op.create_index(
        "uq_prompts_one_active",
        "prompts",
        ["tenant_id", "agent_id"],
        unique=True,
        postgresql_where=sa.text("is_active"),
        sqlite_where=sa.text("is_active"),
    )

    op.create_table(
        "client_messages",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_messages")),
    )
    op.create_index("ix_client_messages_tenant_created", "client_messages", ["tenant_id", "created_at"])
    op.create_table(
        "internal_actions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("operator_id", sa.String(200), nullable=False),
        sa.Column("action", sa.String(200), nullable=False),
        sa.Column("payload", JsonDoc, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_internal_actions")),
    )
    op.create_index("ix_internal_actions_tenant_created", "internal_actions", ["tenant_id", "created_at"])


def downgrade() -> None:
    for table in ("internal_actions", "client_messages", "prompts", "approvals", "run_commands", "run_steps"):
        op.drop_table(table)
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_parent")
        batch.drop_index("ix_runs_status_lease")
        for column in ("finished_at", "lease_until", "lease_owner", "result", "reply"):
            batch.drop_column(column)
