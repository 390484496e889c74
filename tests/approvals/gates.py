"""What the approval policy tests share: a policy set through the API, a run waiting at a gate
asked by a named requester, votes, and the stored approval moved in time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from talkative.approvals.models import Approval
from talkative.db import db_now
from talkative.events.models import EventRow
from tests.factories import Auth, Json
from tests.factories.agents import running_agent

SENSITIVE = "triage my inbox then transfer funds to supplier"
REQUESTER = "rita"


async def set_policy(
    client: httpx.AsyncClient, auth: Auth, policy: dict[str, Any], tenant: str = "tenant-a"
) -> Json:
    response = await client.put("/approval-policy", json=policy, headers=auth("admin", tenant, "boss"))
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def gated(
    client: httpx.AsyncClient, auth: Auth, *, agent: str = "mailer", sub: str = REQUESTER
) -> Json:
    """A run of a new running agent, asked by `sub`, stopped at (or past) its approval: the reply."""
    await running_agent(client, auth(), agent, template="mail-triage")
    response = await client.post(
        f"/agents/{agent}/message", json={"message": SENSITIVE}, headers=auth(sub=sub)
    )
    assert response.status_code == 200, response.text
    reply: Json = response.json()
    return reply


async def approval_of(client: httpx.AsyncClient, auth: Auth, run_id: str) -> Json:
    response = await client.get("/approvals", params={"run_id": run_id}, headers=auth("viewer"))
    assert response.status_code == 200, response.text
    (approval,) = response.json()["approvals"]
    found: Json = approval
    return found


async def vote(
    client: httpx.AsyncClient,
    auth: Auth,
    approval_id: str,
    sub: str,
    decision: str = "approved",
    role: str = "operator",
) -> httpx.Response:
    return await client.post(
        f"/approvals/{approval_id}/decision",
        json={"decision": decision, "note": f"{sub}: {decision}"},
        headers=auth(role, sub=sub),
    )


async def move_due(app: FastAPI, approval_id: str, column: str) -> None:
    """The approval's `deadline_at` or `remind_at` a second in the past by the database's clock."""
    async with app.state.sessionmaker() as session, session.begin():
        past = await db_now(session) - timedelta(seconds=1)
        await session.execute(update(Approval).where(Approval.id == approval_id).values({column: past}))


async def events_of(app: FastAPI, type_: str) -> list[EventRow]:
    async with app.state.sessionmaker() as session:
        query = select(EventRow).where(EventRow.type == type_).order_by(EventRow.id)
        return list((await session.scalars(query)).all())
