"""Router metrics from the daily rollup: a few rows to aggregate, whatever the size of the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, case, cast, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.db import core_execute
from talkative.llm_router import config
from talkative.llm_router.models import UsageDaily
from talkative.llm_router.schemas import DayTotals, GroupTotals, ModelTotals, RouterMetrics, Totals
from talkative.observability.metrics import ROUTER_CAP_USD, ROUTER_SPEND_USD

WINDOW_DAYS = 90
_SUMS = (
    func.sum(UsageDaily.requests),
    func.sum(UsageDaily.errors),
    func.sum(UsageDaily.prompt_tokens),
    func.sum(UsageDaily.completion_tokens),
    func.sum(UsageDaily.tokens),
    func.sum(UsageDaily.cost),
)


def _totals(row: Any) -> dict[str, Any]:
    requests, errors = int(row[0] or 0), int(row[1] or 0)
    return {
        "requests": requests,
        "errors": errors,
        "prompt_tokens": int(row[2] or 0),
        "completion_tokens": int(row[3] or 0),
        "tokens": int(row[4] or 0),
        "cost": round(float(row[5] or 0), 9),
        "error_rate": round(errors / requests, 4) if requests else 0.0,
    }


# Every breakdown in one statement (one round trip instead of five): rows of (breakdown, key, sums),
# the key as text so the branches line up on every database.
_BREAKDOWNS = ("model", "day", "tenant_id", "agent_id")


def _metrics_statement(scoped: bool) -> Any:
    scope = [UsageDaily.day >= bindparam("since")]
    if scoped:
        scope.append(UsageDaily.tenant_id == bindparam("tenant"))
    branches = [select(literal("total"), literal(""), *_SUMS).where(*scope)]
    for name in _BREAKDOWNS:
        column = getattr(UsageDaily, name)
        key = cast(column, String)
        branches.append(select(literal(name), key, *_SUMS).where(*scope).group_by(column))
    return union_all(*branches)


_ALL_TENANTS, _ONE_TENANT = _metrics_statement(False), _metrics_statement(True)


def _day(key: str) -> date:
    return date.fromisoformat(key[:10])  # "YYYY-MM-DD" on both databases


async def router_metrics(session: AsyncSession, *, tenant_id: str | None) -> RouterMetrics:
    since = datetime.now(UTC).date() - timedelta(days=WINDOW_DAYS)
    statement, params = (
        (_ALL_TENANTS, {"since": since})
        if tenant_id is None
        else (_ONE_TENANT, {"since": since, "tenant": tenant_id})
    )
    rows: dict[str, list[Any]] = {"total": [], **{name: [] for name in _BREAKDOWNS}}
    for row in (await session.execute(statement, params)).all():
        rows[row[0]].append(row[1:])
    total = rows["total"][0][1:] if rows["total"] else (None,) * len(_SUMS)
    return RouterMetrics(
        totals=Totals(**_totals(total)),
        per_model=[ModelTotals(model=r[0], **_totals(r[1:])) for r in sorted(rows["model"])],
        per_day=[
            DayTotals(day=date.fromisoformat(str(r[0])[:10]), **_totals(r[1:])) for r in sorted(rows["day"])
        ],
        per_tenant=[GroupTotals(key=r[0], **_totals(r[1:])) for r in sorted(rows["tenant_id"])],
        per_agent=[GroupTotals(key=r[0] or "-", **_totals(r[1:])) for r in sorted(rows["agent_id"])],
    )


# Spend per tenant in this month's rollup rows: (tenant, today's cost, the month's cost).
_SPEND_BY_TENANT = (
    select(
        UsageDaily.tenant_id,
        func.coalesce(
            func.sum(case((UsageDaily.day == bindparam("today"), UsageDaily.cost), else_=0.0)), 0.0
        ),
        func.coalesce(func.sum(UsageDaily.cost), 0.0),
    )
    .where(UsageDaily.day >= bindparam("month"))
    .group_by(UsageDaily.tenant_id)
)
ALL_TENANTS = "*"


async def export_spend(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Spend and caps as gauges for the dashboard's "spend against caps" panel, read at scrape time
    from the ledger's rollup (a row per tenant, agent, model and day) and the budgets in force."""
    today = datetime.now(UTC).date()
    async with sessionmaker() as session, session.begin():
        caps = await config.budgets(session)
        rows = (
            await core_execute(session, _SPEND_BY_TENANT, {"today": today, "month": today.replace(day=1)})
        ).all()
    spend = {(tenant, window): 0.0 for tenant in caps.tenants for window in ("day", "month")}
    spend[ALL_TENANTS, "day"] = spend[ALL_TENANTS, "month"] = 0.0
    for tenant, day, month in rows:
        spend[tenant, "day"], spend[tenant, "month"] = float(day), float(month)
        spend[ALL_TENANTS, "day"] += float(day)
        spend[ALL_TENANTS, "month"] += float(month)
    cap_values = {(ALL_TENANTS, "day"): caps.global_daily_cost_cap_usd}
    for tenant, tenant_caps in caps.tenants.items():
        cap_values[tenant, "day"] = tenant_caps.daily_cost_cap_usd
        cap_values[tenant, "month"] = tenant_caps.monthly_cost_cap_usd
    # No await from here on: a concurrent scrape never sees the gauges half rebuilt.
    ROUTER_SPEND_USD.clear()
    ROUTER_CAP_USD.clear()
    for (tenant, window), value in spend.items():
        ROUTER_SPEND_USD.labels(tenant, window).set(round(value, 9))
    for (tenant, window), cap in cap_values.items():
        if cap is not None:
            ROUTER_CAP_USD.labels(tenant, window).set(cap)
