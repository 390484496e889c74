"""Agents: created, started, given skills, made due for a heartbeat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from talkative.agents.models import Agent
from talkative.db import utcnow
from tests.factories import Headers, Json


def _body(agent_id: str, name: str | None, template: str | None, extra: dict[str, Any]) -> Json:
    body: Json = {"id": agent_id, "name": name or agent_id.title(), **extra}
    if template is not None:
        body["template"] = template
    return body


async def create_agent(
    client: httpx.AsyncClient,
    headers: Headers,
    agent_id: str,
    *,
    name: str | None = None,
    template: str | None = None,
    **extra: Any,
) -> Json:
    """A stopped agent (`name` defaults to the id in title case); `extra` goes into the body."""
    created = await client.post("/agents", json=_body(agent_id, name, template, extra), headers=headers)
    assert created.status_code == 201, created.text
    agent: Json = created.json()
    return agent


async def running_agent(
    client: httpx.AsyncClient,
    headers: Headers,
    agent_id: str,
    *,
    name: str | None = None,
    template: str | None = None,
) -> Json:
    """A created and started agent; returns what the start answered."""
    await create_agent(client, headers, agent_id, name=name, template=template)
    started = await client.post(f"/agents/{agent_id}/start", headers=headers)
    assert started.status_code == 200, started.text
    agent: Json = started.json()
    assert agent["status"] == "running", started.text
    return agent


def running_agent_sync(
    http: httpx.Client, agent_id: str, *, name: str | None = None, template: str | None = None
) -> Json:
    """`running_agent` against a server process, through a client that carries its own headers."""
    created = http.post("/agents", json=_body(agent_id, name, template, {}))
    assert created.status_code == 201, created.text
    started = http.post(f"/agents/{agent_id}/start")
    assert started.status_code == 200, started.text
    agent: Json = started.json()
    assert agent["status"] == "running", started.text
    return agent


async def attach_skill(client: httpx.AsyncClient, headers: Headers, agent_id: str, skill: str) -> Json:
    """Attach (pin) a skill as an admin would: a template, or one already in the workspace."""
    response = await client.post(
        f"/agents/{agent_id}/skills/attach", json={"skillName": skill}, headers=headers
    )
    assert response.status_code == 200, response.text
    attached: Json = response.json()
    return attached


async def make_heartbeat_due(app: FastAPI, agent_id: str, tenant_id: str = "tenant-a") -> None:
    """The agent's next heartbeat is a minute overdue (the scheduler's next pass claims it)."""
    async with app.state.sessionmaker() as session, session.begin():
        due = utcnow() - timedelta(minutes=1)
        await session.execute(
            update(Agent)
            .where(Agent.tenant_id == tenant_id, Agent.id == agent_id)
            .values(next_heartbeat_at=due)
        )
