"""Router metrics from the daily rollup: a few rows to aggregate, whatever the size of the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, cast, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.llm_router.models import UsageDaily
from talkative.llm_router.schemas import DayTotals, GroupTotals, ModelTotals, RouterMetrics, Totals

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
