"""Concurrent messages to one agent: every run, version and event is kept, none twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from talkative.events.models import EventRow
from talkative.runs.models import Run
from talkative.workflows.models import WorkflowVersion
from tests.factories.agents import running_agent

Auth = Callable[..., dict[str, str]]
MESSAGES = 20
# received, interpretation, patch proposed, patch applied, run completed (no skill runs)
EVENTS_PER_MESSAGE = 5


async def test_twenty_concurrent_messages(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "busy")

    async def send(i: int) -> httpx.Response:
        return await client.post(
            "/agents/busy/message", json={"message": f"task {i} then wrap up {i}"}, headers=auth()
        )

    replies = await asyncio.gather(*(send(i) for i in range(MESSAGES)))
    assert [r.status_code for r in replies] == [200] * MESSAGES, [
        r.text for r in replies if r.status_code != 200
    ]
    run_ids = {r.json()["run_id"] for r in replies}
    versions = sorted(r.json()["workflowPatch"]["version"] for r in replies)
    assert len(run_ids) == MESSAGES
    assert versions == list(range(1, MESSAGES + 1)), "a version was lost or written twice"

    async with app.state.sessionmaker() as session:
        runs = (await session.scalars(select(Run).where(Run.agent_id == "busy"))).all()
        stored_versions = await session.scalar(select(func.count()).select_from(WorkflowVersion))
        per_run = Counter(
            (await session.scalars(select(EventRow.run_id).where(EventRow.run_id.in_(run_ids)))).all()
        )
    assert {r.id for r in runs} == run_ids and all(r.status == "completed" for r in runs)
    assert stored_versions == MESSAGES
    assert per_run == dict.fromkeys(run_ids, EVENTS_PER_MESSAGE)

    workflow = (await client.get("/agents/busy/workflow", headers=auth())).json()
    names = [n["name"] for n in workflow["nodes"]]
    assert workflow["version"] == MESSAGES
    expected = {f"Task {i}" for i in range(MESSAGES)} | {f"Wrap up {i}" for i in range(MESSAGES)}
    assert sorted(names) == sorted(expected), "every message's tasks are in the graph exactly once"
