"""Deliveries from the event log to a real local receiver, by the app's own leader loop
(SQLite and PostgreSQL): signed, in the subscription's tenant and types, retried in place."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import httpx
import pytest

from talkative.webhooks import signing
from tests.factories import Json
from tests.factories.agents import running_agent
from tests.factories.runs import send_message
from tests.waiting import eventually
from tests.webhooks.receiver import Receiver, receiving

SETTINGS = {
    "TALKATIVE_WEBHOOKS_ALLOW_PRIVATE": "127.0.0.1",
    "TALKATIVE_WEBHOOKS_POLL_S": "0.05",
    "TALKATIVE_WEBHOOKS_BACKOFF_BASE_S": "0.05",
    "TALKATIVE_WEBHOOKS_TIMEOUT_S": "5",
    "TALKATIVE_CLUSTER_POLL_S": "0.2",
}
Auth = Callable[..., dict[str, str]]


async def subscribe(client: httpx.AsyncClient, headers: dict[str, str], url: str, types: list[str]) -> Json:
    created = await client.post("/webhooks", json={"url": url, "event_types": types}, headers=headers)
    assert created.status_code == 201, created.text
    hook: Json = created.json()
    return hook


async def finished_run(client: httpx.AsyncClient, headers: dict[str, str], agent_id: str) -> str:
    reply = await send_message(client, headers, agent_id, "hello there")
    assert reply["run_status"] == "completed", reply
    run_id: str = reply["run_id"]
    return run_id


async def settled(client: httpx.AsyncClient, headers: dict[str, str], hook_id: str) -> list[Json]:
    """The delivery log once nothing in it is pending (the receiver may answer before it is recorded)."""

    async def read() -> list[Json] | None:
        answer = await client.get(f"/webhooks/{hook_id}/deliveries", headers=headers)
        rows: list[Json] = answer.json()["deliveries"]
        return rows if rows and all(d["status"] != "pending" for d in rows) else None

    return await eventually(read, what=f"webhook {hook_id}'s deliveries never settled")


def documents(receiver: Receiver) -> list[Json]:
    return [json.loads(r.body) for r in receiver.accepted()]


async def test_a_finished_run_is_delivered_signed(
    client: httpx.AsyncClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = auth("admin", "tenant-a")
    await running_agent(client, admin, "helper")
    with receiving() as receiver:
        hook = await subscribe(client, admin, receiver.url, ["RUN_COMPLETED"])
        run_id = await finished_run(client, admin, "helper")
        await eventually(lambda: receiver.accepted() or None, what="the receiver never got the run's event")
        [got] = receiver.accepted()
    document = json.loads(got.body)
    assert document["type"] == "RUN_COMPLETED" and document["run_id"] == run_id
    assert document["tenant_id"] == "tenant-a" and document["agent_id"] == "helper"
    assert set(document) == {"id", "type", "created_at", "tenant_id", "agent_id", "run_id", "payload"}
    assert got.headers["talkative-webhook-id"] == f"{hook['id']}.{document['id']}"
    assert got.headers["content-type"] == "application/json"
    timestamp, signature = (
        got.headers["talkative-webhook-timestamp"],
        got.headers["talkative-webhook-signature"],
    )
    now = time.time()
    assert signing.verify(
        hook["secret"], timestamp=timestamp, body=got.body, signature_header=signature, now=now
    )
    tampered = got.body.replace(b"tenant-a", b"tenant-b")
    assert not signing.verify(
        hook["secret"], timestamp=timestamp, body=tampered, signature_header=signature, now=now
    )
    forged = "v1=" + "0" * 64
    assert not signing.verify(
        hook["secret"], timestamp=timestamp, body=got.body, signature_header=forged, now=now
    )
    [delivery] = await settled(client, admin, hook["id"])
    logged = await client.get(f"/webhooks/{hook['id']}/deliveries", headers=admin)
    assert (
        delivery["status"] == "delivered"
        and delivery["attempts"] == 1
        and delivery["last_status_code"] == 200
    )
    assert delivery["delivery_id"] == got.headers["talkative-webhook-id"] and delivery["delivered_at"]
    assert hook["secret"] not in logged.text and hook["secret"] not in caplog.text


async def test_only_the_tenants_events_of_the_subscribed_types(client: httpx.AsyncClient, auth: Auth) -> None:
    admin_a, admin_b = auth("admin", "tenant-a"), auth("admin", "tenant-b")
    await running_agent(client, admin_a, "helper")
    await running_agent(client, admin_b, "helper")
    with receiving() as receiver:
        await subscribe(client, admin_a, receiver.url, ["RUN_COMPLETED", "BUDGET_EXCEEDED"])
        # Delivered in stream order: once tenant-a's later run has arrived, anything that was going
        # to be sent before it (tenant-b's run, the runs' other events) would have been.
        await finished_run(client, admin_b, "helper")
        run_id = await finished_run(client, admin_a, "helper")
        await eventually(
            lambda: any(d["run_id"] == run_id for d in documents(receiver)) or None,
            what="tenant-a's run never arrived",
        )
        got = documents(receiver)
    assert [(d["type"], d["tenant_id"], d["run_id"]) for d in got] == [("RUN_COMPLETED", "tenant-a", run_id)]


async def test_failed_deliveries_are_retried_with_the_same_id(client: httpx.AsyncClient, auth: Auth) -> None:
    admin = auth("admin", "tenant-a")
    await running_agent(client, admin, "helper")
    with receiving(status=500) as receiver:
        hook = await subscribe(client, admin, receiver.url, ["RUN_COMPLETED"])
        await finished_run(client, admin, "helper")
        await eventually(lambda: len(receiver.requests()) >= 2 or None, what="no second attempt")
        # Failing: the cursor has not moved, and the delivery waits for its next attempt.
        pending = (await client.get(f"/webhooks/{hook['id']}", headers=admin)).json()
        assert pending["cursor"] == hook["cursor"]
        [delivery] = (await client.get(f"/webhooks/{hook['id']}/deliveries", headers=admin)).json()[
            "deliveries"
        ]
        assert (
            delivery["status"] == "pending"
            and delivery["attempts"] >= 1
            and delivery["last_status_code"] == 500
        )
        assert delivery["next_attempt_at"] and len(delivery["response_excerpt"]) <= 300
        receiver.status = 200
        await eventually(lambda: receiver.accepted() or None, what="never accepted")
        requests = receiver.requests()
    assert len(requests) >= 3 and [r.status for r in requests[-1:]] == [200]
    assert {r.headers["talkative-webhook-id"] for r in requests} == {delivery["delivery_id"]}
    [delivery] = await settled(client, admin, hook["id"])
    done = (await client.get(f"/webhooks/{hook['id']}", headers=admin)).json()
    event_id = json.loads(requests[-1].body)["id"]
    assert done["cursor"] != hook["cursor"] and done["cursor"].split(".")[-1] == str(event_id)
    assert delivery["status"] == "delivered" and delivery["attempts"] == len(requests)


async def test_500_twice_then_200(client: httpx.AsyncClient, auth: Auth) -> None:
    admin = auth("admin", "tenant-a")
    await running_agent(client, admin, "helper")
    with receiving(script=[500, 500]) as receiver:
        hook = await subscribe(client, admin, receiver.url, ["RUN_COMPLETED"])
        await finished_run(client, admin, "helper")
        await eventually(lambda: receiver.accepted() or None, what="never accepted")
        requests = receiver.requests()
    assert [r.status for r in requests] == [500, 500, 200]
    assert len({r.headers["talkative-webhook-id"] for r in requests}) == 1
    [delivery] = await settled(client, admin, hook["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
