"""A delivery the receiver never takes is given up after its attempts, and the next event goes
out (SQLite and PostgreSQL); redirects are failures, never followed."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from tests.factories.agents import running_agent
from tests.factories.runs import SENSITIVE, send_message
from tests.waiting import eventually
from tests.webhooks.receiver import receiving
from tests.webhooks.test_delivery import finished_run, settled, subscribe

SETTINGS = {
    "TALKATIVE_WEBHOOKS_ALLOW_PRIVATE": "127.0.0.1",
    "TALKATIVE_WEBHOOKS_POLL_S": "0.05",
    "TALKATIVE_WEBHOOKS_BACKOFF_BASE_S": "0.05",
    "TALKATIVE_WEBHOOKS_MAX_ATTEMPTS": "2",
    "TALKATIVE_CLUSTER_POLL_S": "0.2",
}
Auth = Callable[..., dict[str, str]]


async def test_a_delivery_is_given_up_and_the_next_event_goes_out(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    admin = auth("admin", "tenant-a")
    await running_agent(client, admin, "helper")
    with receiving(script=[302, 302]) as receiver:  # the first event: a redirect, twice
        hook = await subscribe(client, admin, receiver.url, ["RUN_COMPLETED"])
        first = await finished_run(client, admin, "helper")
        second = await finished_run(client, admin, "helper")
        await eventually(lambda: receiver.accepted() or None, what="the second event never arrived")
        requests = receiver.requests()
        deliveries = await settled(client, admin, hook["id"])
    # Two attempts at the first event (the redirect's target never asked for), then the second.
    assert {(r.method, r.path) for r in requests} == {("POST", "/hook?source=talkative")}
    assert [(r.status, json.loads(r.body)["run_id"]) for r in requests] == [
        (302, first),
        (302, first),
        (200, second),
    ]
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in deliveries] == [
        ("delivered", 1, 200),
        ("failed", 2, 302),
    ]
    assert deliveries[1]["last_error"] == "answered HTTP 302" and deliveries[1]["next_attempt_at"] is None
    current = (await client.get(f"/webhooks/{hook['id']}", headers=admin)).json()
    assert current["cursor"].split(".")[-1] == str(json.loads(requests[-1].body)["id"])


async def test_approval_requests_reach_the_receiver(client: httpx.AsyncClient, auth: Auth) -> None:
    admin = auth("admin", "tenant-a")
    await running_agent(client, admin, "helper")
    with receiving() as receiver:
        await subscribe(client, admin, receiver.url, ["APPROVAL_REQUESTED", "RUN_WAITING_APPROVAL"])
        reply = await send_message(client, admin, "helper", SENSITIVE)
        assert reply["run_status"] == "waiting_approval", reply
        await eventually(lambda: len(receiver.accepted()) >= 2 or None, what="the approval never arrived")
        documents = [json.loads(r.body) for r in receiver.accepted()]
    assert {d["type"] for d in documents} == {"APPROVAL_REQUESTED", "RUN_WAITING_APPROVAL"}
    assert all(d["run_id"] == reply["run_id"] for d in documents)
    [requested] = [d for d in documents if d["type"] == "APPROVAL_REQUESTED"]
    assert requested["payload"]["approval_id"]
