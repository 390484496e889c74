"""The scheduler's loops as the running app has them: nothing here calls a pass by hand, so a loop
the lifespan no longer starts, or whose body does nothing, fails these tests."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.events import service as events
from talkative.events.models import EventRow
from talkative.events.schemas import NewEvent
from tests.factories import Auth
from tests.factories.agents import create_agent, make_heartbeat_due, running_agent
from tests.waiting import eventually

KEEP = 100  # the smallest number of events an agent may keep
SETTINGS = {
    "TALKATIVE_HEARTBEAT_POLL_S": 0.05,
    "TALKATIVE_EVENTS_PRUNE_INTERVAL_S": 0.05,
    "TALKATIVE_EVENTS_KEEP_PER_AGENT": KEEP,
}


async def _runs(client: httpx.AsyncClient, auth: Auth, agent_id: str) -> list[dict[str, object]]:
    response = await client.get("/orchestrator/runs", params={"agent_id": agent_id}, headers=auth("viewer"))
    assert response.status_code == 200, response.text
    runs: list[dict[str, object]] = response.json()["runs"]
    return runs


async def test_a_due_heartbeat_gets_its_run_from_the_running_app(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    await running_agent(client, auth(), "idle", template="mail-triage")
    assert await _runs(client, auth, "mailer") == []  # started now: its first heartbeat is not due yet

    await make_heartbeat_due(app, "mailer")

    async def heartbeats() -> list[dict[str, object]]:
        return [r for r in await _runs(client, auth, "mailer") if r["kind"] == "heartbeat"]

    (run,) = await eventually(heartbeats, what="the scheduler never ran the due heartbeat")
    assert run["agent_id"] == "mailer"
    assert await _runs(client, auth, "idle") == [], "an agent whose heartbeat is not due has none"


async def _count(maker: async_sessionmaker[AsyncSession], agent_id: str) -> int:
    async with maker() as session:
        query = select(func.count()).select_from(EventRow).where(EventRow.agent_id == agent_id)
        return int((await session.execute(query)).scalar_one())


async def test_events_beyond_what_an_agent_keeps_are_pruned_by_the_running_app(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await create_agent(client, auth(), "chatty")
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with maker() as session, session.begin():
        stored = await events.append(
            session,
            [NewEvent(type=f"NOTE_{i}", tenant_id="tenant-a", agent_id="chatty") for i in range(KEEP + 50)],
        )

    async def pruned() -> bool:
        return await _count(maker, "chatty") == KEEP

    await eventually(pruned, what="the retention loop never pruned the agent's oldest events")
    async with maker() as session:
        kept = (await session.scalars(select(EventRow.id).where(EventRow.agent_id == "chatty"))).all()
    assert sorted(kept) == [e.id for e in stored[-KEEP:]], "the newest are kept"
