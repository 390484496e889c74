"""Router metrics from the rollup, in one statement: every breakdown, days in order, scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from talkative.llm_router.metrics import router_metrics
from talkative.llm_router.models import UsageDaily


async def test_every_breakdown_comes_from_one_pass_over_the_rollup(app: FastAPI) -> None:
    today = datetime.now(UTC).date()
    rows = [
        (today - timedelta(days=2), "t1", "a1", "local", 2, 0, 0.0),
        (today - timedelta(days=1), "t1", "a1", "openai/x", 3, 1, 0.25),
        (today, "t2", "", "local", 5, 0, 0.0),
        (today - timedelta(days=200), "t1", "a1", "local", 100, 0, 0.0),  # outside the 90 days
    ]
    async with app.state.sessionmaker() as session, session.begin():
        for day, tenant, agent, model, requests, errors, cost in rows:
            session.add(
                UsageDaily(
                    day=day,
                    tenant_id=tenant,
                    agent_id=agent,
                    model=model,
                    requests=requests,
                    errors=errors,
                    prompt_tokens=requests,
                    completion_tokens=0,
                    tokens=requests,
                    cost=cost,
                )
            )
    async with app.state.sessionmaker() as session:
        everything = await router_metrics(session, tenant_id=None)
        scoped = await router_metrics(session, tenant_id="t1")

    assert (everything.totals.requests, everything.totals.errors, everything.totals.cost) == (10, 1, 0.25)
    assert [d.day for d in everything.per_day] == [today - timedelta(days=n) for n in (2, 1, 0)]
    assert {m.model: m.requests for m in everything.per_model} == {"local": 7, "openai/x": 3}
    assert {t.key: t.requests for t in everything.per_tenant} == {"t1": 5, "t2": 5}
    assert {a.key: a.requests for a in everything.per_agent} == {"-": 5, "a1": 5}
    assert scoped.totals.requests == 5 and [t.key for t in scoped.per_tenant] == ["t1"]
    assert scoped.totals.error_rate == 0.2
