"""The approval webhook channel: a tenant's chat or bot URL subscribed to the approval events gets
a request and a reminder, signed, each with the approval page's `approval_url`; the verifier of
docs/webhooks.md accepts them as sent and refuses them tampered (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from tests.factories.agents import running_agent
from tests.waiting import eventually
from tests.webhooks.receiver import receiving
from tests.webhooks.test_delivery import documents, subscribe
from tests.webhooks.test_docs import _python_verify

PUBLIC_URL = "https://talkative.example.com"
SETTINGS = {
    "TALKATIVE_WEBHOOKS_ALLOW_PRIVATE": "127.0.0.1",
    "TALKATIVE_WEBHOOKS_POLL_S": "0.05",
    "TALKATIVE_WEBHOOKS_BACKOFF_BASE_S": "0.05",
    "TALKATIVE_CLUSTER_POLL_S": "0.2",
    "TALKATIVE_PUBLIC_URL": PUBLIC_URL,
}
Auth = Callable[..., dict[str, str]]


async def test_an_approval_request_and_its_reminder_arrive_signed(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    admin, operator = auth("admin", "tenant-a"), auth("operator", "tenant-a")
    await running_agent(client, operator, "helper")
    types = ["APPROVAL_REQUESTED", "APPROVAL_REMINDER", "APPROVAL_ESCALATED", "APPROVAL_EXPIRED"]
    with receiving() as receiver:
        hook = await subscribe(client, admin, receiver.url, types)
        created = await client.post(
            "/approvals", json={"agent_id": "helper", "reason": "refund order 42"}, headers=operator
        )
        approval_id = created.json()["id"]
        deadline = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
        async with app.state.runtime.sessionmaker() as session, session.begin():
            await events.append(
                session,
                [
                    NewEvent(
                        type=EventType.APPROVAL_REMINDER,
                        tenant_id="tenant-a",
                        agent_id="helper",
                        message="approval still pending",
                        payload={
                            "approval_id": approval_id,
                            "reason": "refund order 42",
                            "step": None,
                            "requested_by": "tester",
                            "required": 1,
                            "stage": 1,
                            "deadline_at": deadline,
                            "approvers": {"roles": ["admin"], "subjects": []},
                        },
                    )
                ],
            )
        await eventually(
            lambda: len(receiver.accepted()) >= 2 or None, what="the approval events never arrived"
        )
        got = receiver.accepted()
    assert [d["type"] for d in documents(receiver)] == ["APPROVAL_REQUESTED", "APPROVAL_REMINDER"]
    verify = _python_verify()
    for received in got:
        document = json.loads(received.body)
        assert document["payload"]["approval_id"] == approval_id
        assert document["payload"]["approval_url"] == f"{PUBLIC_URL}/approvals/{approval_id}"
        assert "#token=" not in received.body.decode()  # the webhook's link carries no token
        timestamp = received.headers["talkative-webhook-timestamp"]
        signature = received.headers["talkative-webhook-signature"]
        assert verify(hook["secret"], timestamp, received.body, signature)
        tampered = received.body.replace(approval_id.encode(), b"apr_0000000000000000")
        assert not verify(hook["secret"], timestamp, tampered, signature)
        assert not verify(hook["secret"], timestamp, received.body, "v1=" + "0" * 64)
        assert not verify(hook["secret"], str(int(time.time()) - 3600), received.body, signature)
    reminder = json.loads(got[1].body)
    assert reminder["payload"]["deadline_at"] == deadline
    assert reminder["payload"]["approvers"] == {"roles": ["admin"], "subjects": []}
