"""Migration 0009: saved agent caps move from `{agent: {tenant_id, ...}}` to `{tenant: {agent: ...}}`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from talkative import migrations
from talkative.db import create_engine
from talkative.llm_router.budgets import validate_budgets

BEFORE, AFTER = "0006_runs_recent", "0009_budget_caps"
OLD_DOC = {
    "global_daily_cost_cap_usd": 5,
    "tenants": {"t1": {"daily_cost_cap_usd": 1, "monthly_cost_cap_usd": None}},
    "agents": {
        "mailer": {"tenant_id": "t1", "daily_cost_cap_usd": 0.5, "monthly_cost_cap_usd": None},
        "old-agent": {"tenant_id": None, "daily_cost_cap_usd": 0.25, "monthly_cost_cap_usd": None},
        "gone": {"tenant_id": None, "daily_cost_cap_usd": 9, "monthly_cost_cap_usd": None},
    },
}
NEW_AGENTS = {
    "t1": {"mailer": {"daily_cost_cap_usd": 0.5, "monthly_cost_cap_usd": None}},
    "t2": {"old-agent": {"daily_cost_cap_usd": 0.25, "monthly_cost_cap_usd": None}},
}


def _sql(url: str, statement: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                result = await conn.exec_driver_sql(statement)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _doc(url: str) -> dict[str, Any]:
    (raw,) = _sql(url, "SELECT doc FROM router_config WHERE kind = 'budgets'")
    doc: dict[str, Any] = raw[0] if isinstance(raw[0], dict) else json.loads(raw[0])  # JSON or its text
    return doc


def test_agent_caps_are_keyed_by_tenant_and_back(empty_database: str) -> None:
    url = empty_database
    migrations.upgrade(url, BEFORE)
    _sql(
        url,
        "INSERT INTO agents (id, tenant_id, name, status, heartbeat_minutes, workspace, created_at, updated_at) "
        "VALUES ('old-agent', 't2', 'Old', 'running', 30, 'workspaces/old-agent', '2026-01-01', '2026-01-01')",
    )
    insert = "INSERT INTO router_config (kind, doc, created_by, created_at) VALUES ('budgets', '{}', 'a', '2026-01-01')"
    _sql(url, insert.format(json.dumps(OLD_DOC)))
    migrations.upgrade(url, AFTER)
    doc = _doc(url)
    assert doc["agents"] == NEW_AGENTS, "a tenant-less cap goes to its agent's tenant; one for no agent goes"
    assert doc["tenants"] == OLD_DOC["tenants"] and doc["global_daily_cost_cap_usd"] == 5
    assert validate_budgets(doc).agents["t2"]["old-agent"].daily_cost_cap_usd == 0.25

    migrations.downgrade(url, BEFORE)
    assert _doc(url)["agents"] == {
        "mailer": {"tenant_id": "t1", "daily_cost_cap_usd": 0.5, "monthly_cost_cap_usd": None},
        "old-agent": {"tenant_id": "t2", "daily_cost_cap_usd": 0.25, "monthly_cost_cap_usd": None},
    }
