"""The usage ledger and its daily rollup, written together in the caller's transaction."""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import core_execute, newest_last, utcnow
from talkative.llm_router.budgets import Budgets, Spend, agent_caps
from talkative.llm_router.models import UsageDaily, UsageRow

# PostgreSQL advisory locks (two-int keys) that make a budget check and its hold one step. On
# SQLite every writing transaction already holds the database's one write lock (BEGIN IMMEDIATE).
_CAPS, _TENANT, _AGENT = 7_411_337, 7_411_338, 7_411_339  # key spaces
_CONFIG, _GLOBAL = 0, 1  # keys within _CAPS
_LOCK = text("SELECT pg_advisory_xact_lock(:space, :key)")
_LOCK_SHARED = text("SELECT pg_advisory_xact_lock_shared(:space, :key)")


async def _advisory(session: AsyncSession, statement: Any, space: int, key: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await core_execute(session, statement, {"space": space, "key": key})


async def keep_caps_steady(session: AsyncSession) -> None:
    """Until this transaction ends, no one saves other budgets (`lock_caps_for_change` waits).

    Taken before reading the caps a hold is checked against, so every hold in flight was checked
    against the caps in force, and the locks `lock_caps_of` picks from them are the same for all.
    """
    await _advisory(session, _LOCK_SHARED, _CAPS, _CONFIG)


async def lock_caps_for_change(session: AsyncSession) -> None:
    """Saving budgets waits for the holds in flight, and a tenant's read-merge-save is atomic."""
    await _advisory(session, _LOCK, _CAPS, _CONFIG)


async def lock_caps_of(
    session: AsyncSession, budgets: Budgets, *, tenant_id: str, agent_id: str | None
) -> None:
    """One lock serialises the holds that count against the same caps as this call, and no more.

    A global cap makes every priced call count against it; otherwise a tenant's caps are shared
    by its agents; otherwise only the agent's own caps (if any) matter. Locks are taken in this
    order only (after `keep_caps_steady`), so they cannot deadlock.
    """
    tenant = budgets.tenants.get(tenant_id)
    if budgets.global_daily_cost_cap_usd is not None:
        await _advisory(session, _LOCK, _CAPS, _GLOBAL)
    elif tenant is not None and (tenant.daily_cost_cap_usd, tenant.monthly_cost_cap_usd) != (None, None):
        await _advisory(session, _LOCK, _TENANT, _key(tenant_id))
    elif agent_caps(budgets, tenant_id, agent_id) is not None:
        await _advisory(session, _LOCK, _AGENT, _key(f"{tenant_id}\n{agent_id}"))


def _key(name: str) -> int:
    """A stable int4 for a name (two names sharing one only wait for each other, never deadlock)."""
    return zlib.crc32(name.encode("utf-8", "surrogatepass")) - 2**31


async def _rollup(
    session: AsyncSession,
    row: UsageRow,
    *,
    requests: int,
    errors: int,
    cost: float,
    prompt: int,
    completion: int,
) -> None:
    values: dict[str, Any] = {
        "day": row.created_at.astimezone(UTC).date(),
        "tenant_id": row.tenant_id,
        "agent_id": row.agent_id or "",
        "model": row.model,
        "requests": requests,
        "errors": errors,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "tokens": prompt + completion,
        "cost": cost,
    }
    await core_execute(session, _UPSERT_DAY[session.get_bind().dialect.name], values)


def _upsert_day(insert: Any) -> Any:
    """One day's rollup row added to (built once per dialect; the values are bound per call)."""
    statement = insert(UsageDaily)
    added = {
        k: getattr(UsageDaily, k) + statement.excluded[k]
        for k in ("requests", "errors", "prompt_tokens", "completion_tokens", "tokens", "cost")
    }
    return statement.on_conflict_do_update(
        index_elements=["day", "tenant_id", "agent_id", "model"], set_=added
    )


_UPSERT_DAY = {"postgresql": _upsert_day(pg_insert), "sqlite": _upsert_day(sqlite_insert)}


async def reserve(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str | None,
    run_id: str | None,
    model: str,
    worst_case: float,
) -> UsageRow:
    """A call in flight, counted at its worst-case cost until it finishes."""
    row = UsageRow(
        tenant_id=tenant_id,
        agent_id=agent_id,
        run_id=run_id,
        model=model,
        prompt_tokens=0,
        completion_tokens=0,
        tokens=0,
        cost=worst_case,
        latency_ms=0.0,
        status="reserved",
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    await _rollup(session, row, requests=0, errors=0, cost=worst_case, prompt=0, completion=0)
    return row


async def settle(
    session: AsyncSession,
    row: UsageRow,
    *,
    status: str,
    prompt_tokens: int,
    completion_tokens: int,
    cost: float,
    latency_ms: float,
    error: str | None = None,
) -> UsageRow:
    """Turns a reservation into the call's real outcome (the rollup moves by the difference)."""
    reserved = row.cost if row.status == "reserved" else 0.0
    row.status, row.prompt_tokens, row.completion_tokens = status, prompt_tokens, completion_tokens
    row.tokens, row.cost, row.latency_ms, row.error = (
        prompt_tokens + completion_tokens,
        cost,
        latency_ms,
        error,
    )
    await session.flush()
    await _rollup(
        session,
        row,
        requests=1,
        errors=int(status != "ok"),
        cost=cost - reserved,
        prompt=prompt_tokens,
        completion=completion_tokens,
    )
    return row


async def release_run_reservations(
    session: AsyncSession, *, tenant_id: str, agent_id: str | None, run_id: str, reason: str
) -> int:
    """Ends a run's calls still held: errors that cost nothing, for calls whose process stopped
    before it could record them (their bill is unknown; a hold kept would count against the caps
    forever). Idempotent; returns how many it released."""
    query = select(UsageRow).where(
        UsageRow.tenant_id == tenant_id,
        UsageRow.agent_id == agent_id,  # served by the agent's index; a run's calls are its agent's
        UsageRow.run_id == run_id,
        UsageRow.status == "reserved",
    )
    held = (await session.scalars(query.with_for_update())).all()
    for row in held:
        await settle(
            session,
            row,
            status="error",
            prompt_tokens=0,
            completion_tokens=0,
            cost=0.0,
            latency_ms=0.0,
            error=f"released: {reason}",
        )
    return len(held)


async def record(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str | None,
    run_id: str | None,
    model: str,
    status: str,
    prompt_tokens: int,
    completion_tokens: int,
    cost: float,
    latency_ms: float,
    error: str | None = None,
) -> UsageRow:
    """A finished call in one go (the local model's, or a fallback): its row and the rollup. One
    Core INSERT: the returned row is not tracked by the session (its id stays unset)."""
    row = UsageRow(
        tenant_id=tenant_id,
        agent_id=agent_id,
        run_id=run_id,
        model=model,
        status=status,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        tokens=prompt_tokens + completion_tokens,
        cost=cost,
        latency_ms=latency_ms,
        error=error,
        created_at=utcnow(),
    )
    await core_execute(session, _INSERT_ROW, {name: getattr(row, name) for name in _ROW_COLUMNS})
    await _rollup(
        session,
        row,
        requests=1,
        errors=int(status != "ok"),
        cost=cost,
        prompt=prompt_tokens,
        completion=completion_tokens,
    )
    return row


_ROW_COLUMNS = tuple(c.key for c in UsageRow.__table__.columns if c.key != "id")
_INSERT_ROW = insert(UsageRow)


async def spend(
    session: AsyncSession, *, tenant_id: str, agent_id: str | None, today: date | None = None
) -> Spend:
    """Spend in every capped window, in one query over this month's rollup rows."""
    today = today or datetime.now(UTC).date()
    params = {"today": today, "month": today.replace(day=1), "tenant": tenant_id, "agent": agent_id or ""}
    row = (await core_execute(session, _SPEND, params)).one()
    return Spend(*(float(value) for value in row))


def _spend_statement() -> Any:
    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, UsageDaily.cost), else_=0.0)), 0.0)

    same_tenant = UsageDaily.tenant_id == bindparam("tenant")
    # An agent is (tenant, id): another tenant's agent of the same id is not this one.
    same_agent = same_tenant & (UsageDaily.agent_id == bindparam("agent"))
    day = UsageDaily.day == bindparam("today")
    return select(
        total(day),
        total(day & same_tenant),
        total(same_tenant),
        total(day & same_agent),
        total(same_agent),
    ).where(UsageDaily.day >= bindparam("month"))


_SPEND = _spend_statement()  # built once: it runs before every model call


async def usage(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    agent_id: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[UsageRow]:
    query = select(UsageRow).order_by(UsageRow.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(UsageRow.tenant_id == tenant_id)
    if agent_id is not None:
        query = query.where(UsageRow.agent_id == agent_id)
    if since is not None:
        query = query.where(UsageRow.created_at >= since)
    if until is not None:
        query = query.where(UsageRow.created_at < until)
    return await newest_last(session, query)


async def daily(session: AsyncSession, *, tenant_id: str | None, days: int = 90) -> list[UsageDaily]:
    query = select(UsageDaily).order_by(UsageDaily.day.desc()).limit(days * 200)
    if tenant_id is not None:
        query = query.where(UsageDaily.tenant_id == tenant_id)
    return list((await session.scalars(query)).all())
