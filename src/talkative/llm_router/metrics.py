"""Router metrics from the daily rollup: a few rows to aggregate, whatever the size of the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
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


async def router_metrics(session: AsyncSession, *, tenant_id: str | None) -> RouterMetrics:
    since = datetime.now(UTC).date() - timedelta(days=WINDOW_DAYS)
    scope = [UsageDaily.day >= since]
    if tenant_id is not None:
        scope.append(UsageDaily.tenant_id == tenant_id)

    async def grouped(column: Any) -> list[Any]:
        return list(
            (
                await session.execute(select(column, *_SUMS).where(*scope).group_by(column).order_by(column))
            ).all()
        )

    total = (await session.execute(select(*_SUMS).where(*scope))).one()
    return RouterMetrics(
        totals=Totals(**_totals(total)),
        per_model=[ModelTotals(model=r[0], **_totals(r[1:])) for r in await grouped(UsageDaily.model)],
        per_day=[DayTotals(day=r[0], **_totals(r[1:])) for r in await grouped(UsageDaily.day)],
        per_tenant=[GroupTotals(key=r[0], **_totals(r[1:])) for r in await grouped(UsageDaily.tenant_id)],
        per_agent=[
            GroupTotals(key=r[0] or "-", **_totals(r[1:])) for r in await grouped(UsageDaily.agent_id)
        ],
    )
