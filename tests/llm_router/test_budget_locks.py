"""Budget locks on PostgreSQL: only a priced call under a cap takes one, on its cap's scope alone,
in a short transaction of its own after the run's opening.

Another connection holds the budget advisory locks, as a hold in flight on another process would:
a call that must not lock goes through; a capped one waits for exactly its scope's lock and,
while it waits, holds nothing of its run's opening (the agent's other messages go through).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from talkative.llm_router import ledger
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.llm_router.fake_openai import FakeOpenAI
from tests.waiting import eventually, within

MODEL = "openai/gpt-test"
PRICES = {MODEL: {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0}}
RULES = {  # "paid ..." goes to the priced model, anything else to the free local one
    "default_model": "local",
    "routes": [{"match": "^paid", "model": MODEL, "max_tokens": 20}],
    "prices": PRICES,
}
EVERY_SCOPE = [
    ledger.scope_lock_key("global", tenant_id="tenant-a", agent_id=None),
    ledger.scope_lock_key("tenant", tenant_id="tenant-a", agent_id=None),
    ledger.scope_lock_key("agent", tenant_id="tenant-a", agent_id="busy"),
]


@pytest.fixture
def database_url(pg_database: str) -> str:
    """Advisory locks are PostgreSQL's: SQLite orders holds by its one write lock."""
    return pg_database


@pytest.fixture
async def other_connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        yield conn
    finally:
        await conn.close()


async def _hold_locks(conn: asyncpg.Connection, keys: list[tuple[int, int]]) -> None:
    """Session-level locks: held until `_let_go`, whatever this connection does meanwhile."""
    for space, key in keys:
        await conn.execute("SELECT pg_advisory_lock($1, $2)", space, key)


async def _let_go(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock_all()")


async def _waiting_for(conn: asyncpg.Connection, space: int, key: int) -> bool:
    """Whether some backend waits for this advisory lock (objid is the key as an unsigned oid)."""
    found = await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND classid = $1 AND objid = $2 AND objsubid = 2",
        space,
        key % 2**32,
    )
    return bool(found)


async def _setup(client: httpx.AsyncClient, auth: Auth, caps: dict[str, Any]) -> None:
    await running_agent(client, auth(), "busy")
    response = await client.put("/router/admin/rules", json=RULES, headers=auth("admin", None))
    assert response.status_code == 200, response.text
    saved = await client.put("/router/admin/budgets", json=caps, headers=auth("admin", None))
    assert saved.status_code == 200, saved.text


async def _send(client: httpx.AsyncClient, auth: Auth, text: str) -> httpx.Response:
    return await client.post("/agents/busy/message", json={"message": text}, headers=auth())


async def _usage(client: httpx.AsyncClient, auth: Auth) -> list[dict[str, Any]]:
    response = await client.get("/router/admin/usage", params={"limit": 1000}, headers=auth("admin", None))
    rows: list[dict[str, Any]] = response.json()["usage"]
    return rows


async def test_a_free_call_takes_no_budget_lock(
    routed: tuple[FastAPI, httpx.AsyncClient], auth: Auth, other_connection: asyncpg.Connection
) -> None:
    """Every budget lock held elsewhere (even a budgets save's), under caps on every scope: the
    local model's message goes through."""
    _, client = routed
    caps = {
        "global_daily_cost_cap_usd": 5.0,
        "tenants": {"tenant-a": {"daily_cost_cap_usd": 1.0}},
        "agents": {"tenant-a": {"busy": {"daily_cost_cap_usd": 0.5}}},
    }
    await _setup(client, auth, caps)
    await _hold_locks(other_connection, [ledger.CONFIG_LOCK_KEY, *EVERY_SCOPE])
    response = await within(_send(client, auth, "collect invoices"), what="the free call waited for a lock")
    assert response.status_code == 200, response.text
    assert [row["model"] for row in await _usage(client, auth)] == ["local"]


async def test_a_priced_call_under_no_cap_takes_no_scope_lock(
    routed: tuple[FastAPI, httpx.AsyncClient],
    fake_openai: FakeOpenAI,
    auth: Auth,
    other_connection: asyncpg.Connection,
) -> None:
    """Caps only on another tenant: tenant-a's priced call checks nothing and locks no scope."""
    _, client = routed
    await _setup(client, auth, {"tenants": {"tenant-b": {"daily_cost_cap_usd": 100.0}}})
    await _hold_locks(other_connection, EVERY_SCOPE)
    response = await within(_send(client, auth, "paid invoices"), what="the uncapped call waited for a lock")
    assert response.status_code == 200, response.text
    assert fake_openai.count == 1
    assert [(row["model"], row["status"]) for row in await _usage(client, auth)] == [(MODEL, "ok")]


async def test_a_capped_call_waits_for_its_scope_only_after_its_run_opened(
    routed: tuple[FastAPI, httpx.AsyncClient],
    fake_openai: FakeOpenAI,
    auth: Auth,
    other_connection: asyncpg.Connection,
) -> None:
    """The tenant's scope locked elsewhere: the capped call waits for that lock, with its run
    already opened (committed, `pending`) and nothing of the opening held: the same agent's
    free messages go through meanwhile. Let go, the call is held, sent and settled."""
    _, client = routed
    await _setup(client, auth, {"tenants": {"tenant-a": {"daily_cost_cap_usd": 100.0}}})
    tenant_scope = ledger.scope_lock_key("tenant", tenant_id="tenant-a", agent_id=None)
    await _hold_locks(other_connection, [tenant_scope])
    paid = asyncio.create_task(_send(client, auth, "paid supplier"))
    try:
        await eventually(
            lambda: _waiting_for(other_connection, *tenant_scope),
            what="the capped call never waited for its tenant's lock",
        )
        runs = await client.get("/orchestrator/runs", params={"agent_id": "busy"}, headers=auth())
        assert [run["status"] for run in runs.json()["runs"]] == ["pending"], runs.text
        for n in range(3):
            free = await within(_send(client, auth, f"collect invoices {n}"), what="the opening was held")
            assert free.status_code == 200, free.text
        assert not paid.done() and fake_openai.count == 0
    finally:
        await _let_go(other_connection)
    response = await within(paid, what="the capped call never went on")
    assert response.status_code == 200, response.text
    assert fake_openai.count == 1
    rows = await _usage(client, auth)
    assert sorted((row["model"], row["status"]) for row in rows) == [("local", "ok")] * 3 + [(MODEL, "ok")]


async def test_a_budgets_save_waits_for_no_free_call(
    routed: tuple[FastAPI, httpx.AsyncClient],
    fake_openai: FakeOpenAI,
    auth: Auth,
    other_connection: asyncpg.Connection,
) -> None:
    """A budgets save in progress (the caps' lock held exclusively) holds back priced calls, which
    must be checked against the caps it saves, and nothing else."""
    _, client = routed
    await _setup(client, auth, {})
    await _hold_locks(other_connection, [ledger.CONFIG_LOCK_KEY])
    paid = asyncio.create_task(_send(client, auth, "paid supplier"))
    try:
        await eventually(
            lambda: _waiting_for(other_connection, *ledger.CONFIG_LOCK_KEY),
            what="the priced call never waited for the budgets save",
        )
        free = await within(_send(client, auth, "collect invoices"), what="the free call waited for the save")
        assert free.status_code == 200, free.text
        assert not paid.done() and fake_openai.count == 0
    finally:
        await _let_go(other_connection)
    response = await within(paid, what="the priced call never went on")
    assert response.status_code == 200, response.text
