"""Gauges read when /metrics is scraped: health, and router spend against the caps in force."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from talkative.db import create_engine
from talkative.llm_router.models import UsageDaily

Auth = Callable[..., dict[str, str]]


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text, None when it is not there."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = rf"^{name}{{{re.escape(wanted)}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else None


async def test_health_gauge_follows_the_database(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert sample((await client.get("/metrics")).text, "talkative_health_ok") == 1.0
    healthy = app.state.engine
    if healthy.dialect.name == "sqlite":
        broken = create_engine("sqlite+aiosqlite:////nonexistent-dir/for/sure/talkative.db")
    else:
        broken = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none", timeout_s=1)
    app.state.engine = broken
    try:
        scraped = await client.get("/metrics")
    finally:
        app.state.engine = healthy
        await broken.dispose()
    assert scraped.status_code == 200  # a failing hook never fails the scrape
    assert sample(scraped.text, "talkative_health_ok") == 0.0
    assert sample((await client.get("/metrics")).text, "talkative_health_ok") == 1.0


async def test_router_spend_and_caps_per_tenant_and_window(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    caps = {
        "global_daily_cost_cap_usd": 50,
        "tenants": {"tenant-a": {"daily_cost_cap_usd": 5, "monthly_cost_cap_usd": 40}},
    }
    saved = await client.put("/router/admin/budgets", json=caps, headers=auth("admin", None))
    assert saved.status_code == 200, saved.text
    today = datetime.now(UTC).date()
    earlier = today - timedelta(days=1) if today.day > 1 else today  # same month, another day when possible
    async with app.state.sessionmaker() as session, session.begin():
        session.add_all(
            [
                UsageDaily(day=today, tenant_id="tenant-a", agent_id="a1", model="m", requests=1, cost=1.25),
                UsageDaily(day=today, tenant_id="tenant-a", agent_id="a2", model="m", requests=1, cost=0.5),
                UsageDaily(day=earlier, tenant_id="tenant-a", agent_id="a1", model="n", requests=1, cost=3.0),
                UsageDaily(day=today, tenant_id="tenant-b", agent_id="b1", model="m", requests=1, cost=2.0),
                UsageDaily(
                    day=today - timedelta(days=40), tenant_id="tenant-b", agent_id="b1", model="m", cost=9.0
                ),
            ]
        )
    text = (await client.get("/metrics")).text
    a_day = 1.75 + (3.0 if earlier == today else 0.0)
    assert sample(text, "talkative_router_spend_usd", tenant="tenant-a", window="day") == a_day
    assert sample(text, "talkative_router_spend_usd", tenant="tenant-a", window="month") == 4.75
    assert (
        sample(text, "talkative_router_spend_usd", tenant="tenant-b", window="month") == 2.0
    )  # not last month's
    assert sample(text, "talkative_router_spend_usd", tenant="*", window="month") == 6.75
    assert sample(text, "talkative_router_cap_usd", tenant="*", window="day") == 50.0
    assert sample(text, "talkative_router_cap_usd", tenant="tenant-a", window="month") == 40.0
    assert sample(text, "talkative_router_cap_usd", tenant="tenant-b", window="day") is None  # no cap

    lifted = await client.put("/router/admin/budgets", json={"tenants": {}}, headers=auth("admin", None))
    assert lifted.status_code == 200, lifted.text
    text = (await client.get("/metrics")).text
    assert (
        sample(text, "talkative_router_cap_usd", tenant="tenant-a", window="month") is None
    )  # gone, not stale
    assert sample(text, "talkative_router_cap_usd", tenant="*", window="day") is None
