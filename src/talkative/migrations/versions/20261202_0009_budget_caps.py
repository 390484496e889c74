"""budget caps: agent caps keyed by tenant, then agent id

Saved budgets held `agents: {agent_id: {tenant_id, daily_cost_cap_usd, monthly_cost_cap_usd}}`:
one entry per agent id across all tenants, so a tenant's admin who wrote a cap under an id first
kept every other tenant's admin from capping its own agent of that id. They now hold
`agents: {tenant_id: {agent_id: {daily_cost_cap_usd, monthly_cost_cap_usd}}}`.

A cap that named no tenant (a platform admin's) goes to the tenant of the agent with that id; with
no such agent it applied to nothing and is dropped. Downgrading writes the flat shape back; of the
caps several tenants set on one agent id, only the first tenant's (by name) can be kept there.

Revision ID: 0009_budget_caps
Revises: 0006_runs_recent
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0009_budget_caps"
down_revision: str | None = "0008_tenant_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAP_FIELDS = {"daily_cost_cap_usd", "monthly_cost_cap_usd", "tenant_id"}
_router_config = sa.table(
    "router_config",
    sa.column("id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("doc", sa.JSON().with_variant(JSONB(), "postgresql")),
)
_agents = sa.table("agents", sa.column("id", sa.String), sa.column("tenant_id", sa.String))


def _is_flat(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and bool(entry)
        and set(entry) <= _CAP_FIELDS
        and not any(isinstance(v, dict) for v in entry.values())
    )


def nested(doc: dict[str, Any], tenant_of: dict[str, list[str]]) -> dict[str, Any]:
    agents = doc.get("agents")
    if not isinstance(agents, dict):
        return doc
    out: dict[str, dict[str, Any]] = {}
    for key, entry in agents.items():
        if not _is_flat(entry):
            out.setdefault(key, {}).update(entry)
            continue
        caps = {k: v for k, v in entry.items() if k != "tenant_id"}
        owners = [entry["tenant_id"]] if entry.get("tenant_id") else tenant_of.get(key, [])
        for tenant in owners:
            out.setdefault(str(tenant), {})[key] = caps
    return {**doc, "agents": out}


def flat(doc: dict[str, Any]) -> dict[str, Any]:
    agents = doc.get("agents")
    if not isinstance(agents, dict):
        return doc
    out: dict[str, Any] = {}
    for tenant in sorted(agents):
        entries = agents[tenant]
        if _is_flat(entries) or not isinstance(entries, dict):
            continue  # already flat (never written by this revision's code)
        for agent_id, caps in entries.items():
            out.setdefault(agent_id, {**caps, "tenant_id": tenant})
    return {**doc, "agents": out}


def _rewrite(change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_router_config.c.id, _router_config.c.doc).where(_router_config.c.kind == "budgets")
    )
    for config_id, doc in rows.all():
        if isinstance(doc, dict):
            bind.execute(
                _router_config.update().where(_router_config.c.id == config_id).values(doc=change(doc))
            )


def upgrade() -> None:
    tenant_of: dict[str, list[str]] = {}
    for agent_id, tenant_id in op.get_bind().execute(sa.select(_agents.c.id, _agents.c.tenant_id)).all():
        tenant_of.setdefault(agent_id, []).append(tenant_id)
    _rewrite(lambda doc: nested(doc, tenant_of))


def downgrade() -> None:
    _rewrite(flat)
