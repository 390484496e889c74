"""An agent is (tenant, id): another tenant's agent of the same id spends from its own budget."""

from __future__ import annotations

from fastapi import FastAPI

from talkative.llm_router import ledger


async def test_an_agents_spend_counts_only_its_own_tenants_calls(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await ledger.record(
            session,
            tenant_id="tenant-a",
            agent_id="twin",
            run_id=None,
            model="m",
            status="ok",
            prompt_tokens=1,
            completion_tokens=1,
            cost=2.5,
            latency_ms=1.0,
        )
    async with app.state.sessionmaker() as session:
        of_a = await ledger.spend(session, tenant_id="tenant-a", agent_id="twin")
        of_b = await ledger.spend(session, tenant_id="tenant-b", agent_id="twin")
    assert (of_a.agent_day, of_a.agent_month) == (2.5, 2.5)
    assert (of_b.agent_day, of_b.agent_month, of_b.tenant_day) == (0.0, 0.0, 0.0)
