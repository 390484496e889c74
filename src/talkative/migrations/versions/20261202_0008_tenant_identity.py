"""tenant identity: agents and fleet agents are (tenant_id, id); one workspace per agent

Revision ID: 0008_tenant_identity
Revises: 0006_runs_recent
Create Date: 2026-12-02

No file moves: every agent keeps the workspace path stored in its row (agents created before this
revision stay in `workspaces/<folder>`, new ones go to `workspaces/<tenant>/<folder>`; see
docs/operations.md). The downgrade needs ids unique across tenants again, and says which are not.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_tenant_identity"
down_revision: str | None = "0007_skill_pins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _refuse_duplicates(sql: str, what: str, fix: str) -> None:
    rows = op.get_bind().execute(sa.text(sql)).all()
    if rows:
        listed = ", ".join(" / ".join(str(v) for v in row) for row in rows[:20])
        raise RuntimeError(f"cannot migrate: {what}: {listed}. {fix}")


def _recreate_workflows(unique: tuple[str, list[str]], drop: str) -> None:
    """Swaps the workflows table's unique constraint. SQLite rebuilds the table for it, and dropping
    the old table would cascade to workflow_versions (foreign keys are on): its rows are kept aside
    in a temporary table meanwhile, in SQL (there may be many)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMP TABLE workflow_versions_kept AS SELECT * FROM workflow_versions")
    with op.batch_alter_table("workflows") as batch:
        batch.drop_constraint(drop, type_="unique")
        batch.create_unique_constraint(unique[0], unique[1])
    if sqlite:
        op.execute("DELETE FROM workflow_versions")  # whatever the cascade left, to restore all once
        op.execute("INSERT INTO workflow_versions SELECT * FROM workflow_versions_kept")
        op.execute("DROP TABLE workflow_versions_kept")


def upgrade() -> None:
    _refuse_duplicates(
        "SELECT tenant_id, workspace FROM agents GROUP BY tenant_id, workspace HAVING count(*) > 1",
        "several agents of one tenant share a workspace (tenant / workspace)",
        "Give all but one of them another workspace folder (move the folder and update agents.workspace), "
        "then migrate again.",
    )
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint("pk_agents", type_="primary")
        batch.create_primary_key("pk_agents", ["tenant_id", "id"])
        batch.create_unique_constraint("uq_agents_tenant_workspace", ["tenant_id", "workspace"])
        batch.create_index("ix_agents_id", ["id"])
    _recreate_workflows(
        ("uq_workflows_tenant_agent", ["tenant_id", "agent_id"]), drop="uq_workflows_agent_id"
    )
    op.drop_index("ix_events_agent_id_id", table_name="events")
    op.create_index("ix_events_tenant_agent_id", "events", ["tenant_id", "agent_id", "id"])
    # Fleet agents are (tenant_id, id) too. The placements' foreign key goes first, so rebuilding
    # fleet_agents (SQLite) cascades to nothing and PostgreSQL may drop the key it refers to.
    with op.batch_alter_table("fleet_placements") as batch:
        batch.drop_constraint("fk_fleet_placements_agent_id_fleet_agents", type_="foreignkey")
        batch.drop_constraint("pk_fleet_placements", type_="primary")
        batch.create_primary_key("pk_fleet_placements", ["tenant_id", "agent_id", "node_id"])
    with op.batch_alter_table("fleet_agents") as batch:
        batch.drop_constraint("pk_fleet_agents", type_="primary")
        batch.create_primary_key("pk_fleet_agents", ["tenant_id", "id"])
    with op.batch_alter_table("fleet_placements") as batch:
        batch.create_foreign_key(
            "fk_fleet_placements_tenant_id_fleet_agents",
            "fleet_agents",
            ["tenant_id", "agent_id"],
            ["tenant_id", "id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    fix = "Delete or rename all but one of them, then downgrade again."
    _refuse_duplicates(
        "SELECT id FROM agents GROUP BY id HAVING count(*) > 1",
        "agent ids used by several tenants (the older schema keys agents by id alone)",
        fix,
    )
    _refuse_duplicates(
        "SELECT agent_id FROM workflows WHERE agent_id IS NOT NULL GROUP BY agent_id HAVING count(*) > 1",
        "agents of several tenants with the same id have workflows",
        fix,
    )
    _refuse_duplicates(
        "SELECT id FROM fleet_agents GROUP BY id HAVING count(*) > 1",
        "fleet agent ids used by several tenants (the older schema keys them by id alone)",
        fix,
    )
    with op.batch_alter_table("fleet_placements") as batch:
        batch.drop_constraint("fk_fleet_placements_tenant_id_fleet_agents", type_="foreignkey")
        batch.drop_constraint("pk_fleet_placements", type_="primary")
        batch.create_primary_key("pk_fleet_placements", ["agent_id", "node_id"])
    with op.batch_alter_table("fleet_agents") as batch:
        batch.drop_constraint("pk_fleet_agents", type_="primary")
        batch.create_primary_key("pk_fleet_agents", ["id"])
    with op.batch_alter_table("fleet_placements") as batch:
        batch.create_foreign_key(
            "fk_fleet_placements_agent_id_fleet_agents",
            "fleet_agents",
            ["agent_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.drop_index("ix_events_tenant_agent_id", table_name="events")
    op.create_index("ix_events_agent_id_id", "events", ["agent_id", "id"])
    _recreate_workflows(("uq_workflows_agent_id", ["agent_id"]), drop="uq_workflows_tenant_agent")
    with op.batch_alter_table("agents") as batch:
        batch.drop_index("ix_agents_id")
        batch.drop_constraint("uq_agents_tenant_workspace", type_="unique")
        batch.drop_constraint("pk_agents", type_="primary")
        batch.create_primary_key("pk_agents", ["id"])
