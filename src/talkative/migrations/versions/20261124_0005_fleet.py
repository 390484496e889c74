"""fleet: tenants, clouds, nodes, fleet agents and their placements

Revision ID: 0005_fleet
Revises: 0004_llm_router
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from talkative.db import UTCDateTime
from talkative.events.models import JsonDoc

revision: str = "0005_fleet"
down_revision: str | None = "0004_llm_router"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_tenants",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_tenants")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_fleet_tenants_tenant_id")),
    )
    op.create_table(
        "fleet_clouds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_clouds")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_fleet_clouds_tenant_name"),
    )
    op.create_table(
        "fleet_nodes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("cloud_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("ssh_host", sa.String(253), nullable=True),
        sa.Column("ssh_user", sa.String(32), nullable=True),
        sa.Column("ssh_port", sa.Integer(), nullable=True),
        sa.Column("base_path", sa.String(512), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_seen_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cloud_id"], ["fleet_clouds.id"], name=op.f("fk_fleet_nodes_cloud_id_fleet_clouds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_nodes")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_fleet_nodes_tenant_name"),
    )
    op.create_index("ix_fleet_nodes_cloud", "fleet_nodes", ["cloud_id"])
    op.create_table(
        "fleet_agents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("cloud_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("skills", JsonDoc, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cloud_id"], ["fleet_clouds.id"], name=op.f("fk_fleet_agents_cloud_id_fleet_clouds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_agents")),
    )
    op.create_index("ix_fleet_agents_tenant_created", "fleet_agents", ["tenant_id", "created_at"])
    op.create_index("ix_fleet_agents_cloud", "fleet_agents", ["cloud_id"])
    op.create_table(
        "fleet_placements",
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("skills", JsonDoc, nullable=False),
        sa.Column("path", sa.String(1024), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("provisioned_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["fleet_agents.id"],
            ondelete="CASCADE",
            name=op.f("fk_fleet_placements_agent_id_fleet_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["fleet_nodes.id"],
            ondelete="CASCADE",
            name=op.f("fk_fleet_placements_node_id_fleet_nodes"),
        ),
        sa.PrimaryKeyConstraint("agent_id", "node_id", name=op.f("pk_fleet_placements")),
    )
    op.create_index("ix_fleet_placements_node", "fleet_placements", ["node_id"])


def downgrade() -> None:
    op.drop_table("fleet_placements")
    op.drop_table("fleet_agents")
    op.drop_table("fleet_nodes")
    op.drop_table("fleet_clouds")
    op.drop_table("fleet_tenants")
