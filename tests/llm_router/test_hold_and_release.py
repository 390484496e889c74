"""Holds, each in its own short transaction, stay exact under concurrency; a run's holds can be
released, once, and a run that cannot record its call releases its own.

On both backends: PostgreSQL orders concurrent holds by the cap scope's advisory lock, SQLite by
its one write lock.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from talkative.llm_router import config, ledger
from talkative.llm_router import service as llm
from talkative.llm_router.models import UsageDaily, UsageRow
from talkative.llm_router.providers.base import CompletionRequest
from talkative.llm_router.rules import Price, Rules, Selection
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.llm_router.fake_openai import FakeOpenAI, Reply, answer_json
from tests.waiting import eventually

MODEL = "openai/gpt-test"
WORST = 0.25  # each call's hold


RULES = Rules(prices={MODEL: Price(input_per_mtok=1000.0, output_per_mtok=1000.0)})


def _call(worst: float = WORST) -> llm.Call:
    request = CompletionRequest(model="gpt-test", prompt="", message="pay", skills=[], max_tokens=10)
    return llm.Call(Selection(MODEL, 10, 0), "openai", "gpt-test", request, RULES, worst_case=worst)


async def _save_caps(app: FastAPI, caps: dict[str, Any]) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await config.save_budgets(session, caps, tenant_scope=None, by="test")


async def _hold(app: FastAPI, run_id: str, *, agent: str = "payer") -> llm.Call:
    call = _call()
    async with app.state.sessionmaker() as session, session.begin():
        await llm.hold(session, call, tenant_id="tenant-a", agent_id=agent, run_id=run_id)
    return call


async def _tenant_spend(app: FastAPI) -> float:
    async with app.state.sessionmaker() as session:
        return (await ledger.spend(session, tenant_id="tenant-a", agent_id="payer")).tenant_day


async def _release(app: FastAPI, run_id: str) -> int:
    async with app.state.sessionmaker() as session, session.begin():
        return await llm.release_run_reservations(session, run_id, reason="test: run abandoned")


async def _rows(app: FastAPI) -> list[UsageRow]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(UsageRow).order_by(UsageRow.id))).all())


@pytest.mark.parametrize("scope", ["global", "tenant", "agent"])
async def test_concurrent_holds_fill_a_cap_exactly(app: FastAPI, scope: str) -> None:
    """Twelve holds at once against room for five: exactly five are held, seven refused."""
    cap = 5 * WORST + WORST / 2
    by_scope: dict[str, dict[str, Any]] = {
        "global": {"global_daily_cost_cap_usd": cap},
        "tenant": {"tenants": {"tenant-a": {"daily_cost_cap_usd": cap}}},
        "agent": {"agents": {"tenant-a": {"payer": {"monthly_cost_cap_usd": cap}}}},
    }
    await _save_caps(app, by_scope[scope])

    async def attempt(n: int) -> bool:
        try:
            await _hold(app, f"run-{n}")
        except llm.BudgetExceeded as exc:
            assert exc.breach.cap.startswith(scope), exc.breach
            return False
        return True

    held = await asyncio.gather(*(attempt(n) for n in range(12)))
    assert held.count(True) == 5, held
    assert await _tenant_spend(app) == pytest.approx(5 * WORST)
    assert [row.status for row in await _rows(app)] == ["reserved"] * 5


async def test_an_uncapped_scope_does_not_count_another_scopes_holds(app: FastAPI) -> None:
    """Agent caps are the agent's own: another agent of the tenant is neither counted nor refused."""
    await _save_caps(app, {"agents": {"tenant-a": {"payer": {"daily_cost_cap_usd": WORST}}}})
    await _hold(app, "run-1")
    with pytest.raises(llm.BudgetExceeded):
        await _hold(app, "run-2")
    for n in range(3):
        await _hold(app, f"other-{n}", agent="other")
    assert len(await _rows(app)) == 4


async def test_releasing_a_runs_holds_is_idempotent(app: FastAPI) -> None:
    """Released once: the hold stops counting (its cap has room again), the row says why; the
    second release finds nothing, and another run's hold is untouched."""
    await _save_caps(app, {"tenants": {"tenant-a": {"daily_cost_cap_usd": 2 * WORST}}})
    await _hold(app, "abandoned")
    await _hold(app, "abandoned")  # a re-planned run may have held twice
    with pytest.raises(llm.BudgetExceeded):
        await _hold(app, "kept")
    assert await _release(app, "abandoned") == 2
    assert await _tenant_spend(app) == 0.0
    await _hold(app, "kept")
    assert await _release(app, "abandoned") == 0
    assert await _release(app, "never-held") == 0
    assert await _tenant_spend(app) == pytest.approx(WORST)
    rows = await _rows(app)
    assert [(row.run_id, row.status, row.cost) for row in rows] == [
        ("abandoned", "released", 0.0),
        ("abandoned", "released", 0.0),
        ("kept", "reserved", WORST),
    ]
    assert rows[0].error == "test: run abandoned"
    async with app.state.sessionmaker() as session:
        (daily,) = (await session.scalars(select(UsageDaily))).all()
    assert (daily.requests, daily.errors, daily.cost) == (0, 0, pytest.approx(WORST))


async def test_concurrent_releases_release_each_hold_once(app: FastAPI) -> None:
    await _hold(app, "abandoned")
    await _hold(app, "abandoned")
    released = await asyncio.gather(*(_release(app, "abandoned") for _ in range(4)))
    assert sorted(released) == [0, 0, 0, 2]
    assert await _tenant_spend(app) == 0.0


async def test_a_late_settle_after_a_release_records_the_bill(app: FastAPI) -> None:
    """A process thought dead records its call after all: the bill counts once, from zero."""
    call = await _hold(app, "late")
    assert await _release(app, "late") == 1
    completion = await app.state.runtime.providers["local"].complete(call.request)
    async with app.state.sessionmaker() as session, session.begin():
        await llm.record(
            session,
            call=call,
            tenant_id="tenant-a",
            agent_id="payer",
            run_id="late",
            completion=completion,
            error=None,
            latency_ms=1.0,
        )
    (row,) = await _rows(app)
    assert row.status == "ok" and row.cost > 0
    assert await _tenant_spend(app) == pytest.approx(row.cost)


async def test_a_request_cancelled_during_the_call_releases_its_hold(
    routed: tuple[FastAPI, httpx.AsyncClient], fake_openai: FakeOpenAI, auth: Auth
) -> None:
    """The request is cancelled while the model thinks (a server shutting down): the run will not
    record its call, and its hold does not stay `reserved`, counting against the tenant's cap."""
    app, client = routed
    await running_agent(client, auth(), "payer")
    rules = {
        "default_model": MODEL,
        "prices": {MODEL: {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0}},
    }
    assert (
        await client.put("/router/admin/rules", json=rules, headers=auth("admin", None))
    ).status_code == 200
    caps = {"tenants": {"tenant-a": {"daily_cost_cap_usd": 1000.0}}}
    assert (
        await client.put("/router/admin/budgets", json=caps, headers=auth("admin", None))
    ).status_code == 200
    fake_openai.reply = Reply(content=answer_json(["Pay"]), delay_s=5.0)
    sending = asyncio.create_task(
        client.post("/agents/payer/message", json={"message": "pay"}, headers=auth())
    )

    async def rows_with(status: str) -> list[UsageRow]:
        return [row for row in await _rows(app) if row.status == status]

    await eventually(lambda: rows_with("reserved"), what="the call was never held")
    assert await _tenant_spend(app) > 0
    sending.cancel()
    (row,) = await eventually(lambda: rows_with("released"), what="the hold was never released")
    assert (row.cost, row.error) == (0.0, "run not recorded: CancelledError")
    assert await _tenant_spend(app) == 0.0
