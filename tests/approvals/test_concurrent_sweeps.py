"""Two sweepers at once on PostgreSQL (two engines, as two processes would have): each due
approval is expired, and each due reminder sent, exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from talkative.db import create_engine, make_sessionmaker
from talkative.orchestrator import control
from talkative.runtime import Runtime
from tests.approvals.gates import events_of, move_due, set_policy
from tests.factories import Auth
from tests.factories.agents import running_agent

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
SETTINGS = {"TALKATIVE_APPROVAL_DEADLINE_POLL_S": "300"}
MANY = 12


async def _pending(client: httpx.AsyncClient, auth: Auth) -> list[str]:
    await running_agent(client, auth(), "mailer")
    ids = []
    for i in range(MANY):
        created = await client.post(
            "/approvals", json={"agent_id": "mailer", "reason": f"payment {i}"}, headers=auth(sub="rita")
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


async def _race(app: FastAPI) -> tuple[int, int]:
    """The app's sweep and a second one, with an engine of its own, started together."""
    runtime: Runtime = app.state.runtime
    engine = create_engine(app.state.settings.resolved_database_url)
    other = replace(runtime, sessionmaker=make_sessionmaker(engine))
    try:
        first, second = await asyncio.gather(control.sweep_approvals(runtime), control.sweep_approvals(other))
    finally:
        await engine.dispose()
    return first, second


async def test_two_sweepers_expire_each_approval_once(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await set_policy(
        client, auth, {"stages": [{"roles": ["operator"], "deadline_s": 3600, "remind_before_s": 60}]}
    )
    ids = await _pending(client, auth)
    for approval_id in ids:
        await move_due(app, approval_id, "remind_at")
    first, second = await _race(app)
    assert first + second == MANY
    assert sorted(e.payload["approval_id"] for e in await events_of(app, "APPROVAL_REMINDER")) == sorted(ids)

    for approval_id in ids:
        await move_due(app, approval_id, "deadline_at")
    first, second = await _race(app)
    assert first + second == MANY
    assert sorted(e.payload["approval_id"] for e in await events_of(app, "APPROVAL_EXPIRED")) == sorted(ids)
    listed = await client.get("/approvals", params={"status": "expired"}, headers=auth("viewer"))
    assert len(listed.json()["approvals"]) == MANY
