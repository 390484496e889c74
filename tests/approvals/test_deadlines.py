"""Deadlines, escalation, reminders and failing closed, driven one sweep at a time (the app's own
loop waits minutes here, so only the test's sweeps act; times are moved in the database)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from talkative.approvals.models import Approval
from talkative.orchestrator import control
from tests.approvals.gates import REQUESTER, approval_of, events_of, gated, move_due, set_policy, vote
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import event_names, get_run, wait_run

SETTINGS = {"TALKATIVE_APPROVAL_DEADLINE_POLL_S": "300"}
ONE_HOUR = {"stages": [{"roles": ["operator"], "required": 2, "deadline_s": 3600, "remind_before_s": 600}]}
ESCALATING = {
    "stages": [{"subjects": ["ana"], "deadline_s": 3600}, {"subjects": ["bob"], "deadline_s": 3600}],
    "on_deadline": "escalate",
}


async def sweep(app: FastAPI) -> int:
    return await control.sweep_approvals(app.state.runtime)


async def test_a_deadline_rejects_the_step_and_the_run_ends_rejected(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await set_policy(client, auth, ONE_HOUR)
    reply = await gated(client, auth)
    approval = await approval_of(client, auth, reply["run_id"])
    assert approval["deadline_at"] is not None
    assert await sweep(app) == 0  # an hour to go: nothing is due
    assert (await vote(client, auth, approval["id"], "ana")).status_code == 200  # one of two

    await move_due(app, approval["id"], "deadline_at")
    late = await vote(client, auth, approval["id"], "bob")  # past the deadline: never approved
    assert late.status_code == 409 and late.json()["code"] == "DEADLINE_PASSED", late.text
    assert await sweep(app) == 1
    assert await sweep(app) == 0  # once

    ended = await approval_of(client, auth, reply["run_id"])
    assert (ended["status"], ended["decided_by"], ended["note"]) == (
        "expired",
        "system",
        "the deadline passed",
    )
    done = await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "rejected")
    assert [(s["kind"], s["status"]) for s in done["plan"]] == [
        ("tool", "done"),
        ("approval", "rejected"),
        ("task", "rejected"),
    ]
    names = event_names(done)
    assert "TASK_EXECUTED" not in names and "APPROVAL_DECIDED" not in names
    assert names.index("APPROVAL_EXPIRED") < names.index("STEP_REJECTED") < names.index("RUN_REJECTED")
    (expired,) = await events_of(app, "APPROVAL_EXPIRED")
    assert expired.payload == {"approval_id": approval["id"], "stage": 0, "outcome": "rejected"}
    after = await vote(client, auth, approval["id"], "bob")
    assert after.status_code == 409 and after.json()["code"] == "ALREADY_DECIDED"
    listed = await client.get("/approvals", params={"status": "expired"}, headers=auth("viewer"))
    assert [a["id"] for a in listed.json()["approvals"]] == [approval["id"]]


async def test_a_reminder_is_sent_once_per_stage(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    await set_policy(client, auth, ONE_HOUR)
    reply = await gated(client, auth)
    approval = await approval_of(client, auth, reply["run_id"])
    assert await sweep(app) == 0 and await events_of(app, "APPROVAL_REMINDER") == []
    await move_due(app, approval["id"], "remind_at")
    assert await sweep(app) == 1
    assert await sweep(app) == 0
    (reminder,) = await events_of(app, "APPROVAL_REMINDER")
    assert reminder.run_id == reply["run_id"]
    assert {
        k: reminder.payload[k] for k in ("approval_id", "requested_by", "required", "stage", "approvers")
    } == {
        "approval_id": approval["id"],
        "requested_by": REQUESTER,
        "required": 2,
        "stage": 0,
        "approvers": {"roles": ["operator"], "subjects": []},
    }
    assert reminder.payload["deadline_at"] == (await approval_of(client, auth, reply["run_id"]))[
        "deadline_at"
    ].replace("Z", "+00:00")
    still = await get_run(client, auth(), reply["run_id"])
    assert still["status"] == "waiting_approval"  # a reminder changes nothing else


async def test_escalation_moves_who_may_approve(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    await set_policy(client, auth, ESCALATING)
    reply = await gated(client, auth)
    approval = await approval_of(client, auth, reply["run_id"])
    assert approval["approvers"]["subjects"] == ["ana"]
    await move_due(app, approval["id"], "deadline_at")
    assert await sweep(app) == 1

    escalated = await approval_of(client, auth, reply["run_id"])
    assert (escalated["status"], escalated["stage"], escalated["approvers"]["subjects"]) == (
        "pending",
        1,
        ["bob"],
    )
    assert escalated["deadline_at"] != approval["deadline_at"]
    (event,) = await events_of(app, "APPROVAL_ESCALATED")
    assert (event.payload["stage"], event.payload["approvers"], event.payload["requested_by"]) == (
        1,
        {"roles": [], "subjects": ["bob"]},
        REQUESTER,
    )
    ana = await vote(client, auth, approval["id"], "ana")
    assert ana.status_code == 403 and ana.json()["code"] == "NOT_AN_APPROVER"
    bob = await vote(client, auth, approval["id"], "bob")
    assert bob.status_code == 200 and bob.json()["status"] == "approved", bob.text
    done = await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "completed")
    assert "TASK_EXECUTED" in event_names(done)


async def test_after_the_last_stage_a_deadline_rejects(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await set_policy(client, auth, ESCALATING)
    reply = await gated(client, auth)
    approval = await approval_of(client, auth, reply["run_id"])
    await move_due(app, approval["id"], "deadline_at")
    assert await sweep(app) == 1
    await move_due(app, approval["id"], "deadline_at")
    assert await sweep(app) == 1
    ended = await approval_of(client, auth, reply["run_id"])
    assert (ended["status"], ended["stage"]) == ("expired", 1)
    await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "rejected")


async def test_no_approver_fails_closed_at_once(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    # The only approver named is the requester, who may not approve their own request.
    await set_policy(client, auth, {"stages": [{"subjects": [REQUESTER]}]})
    reply = await gated(client, auth)
    done = await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "rejected")
    assert [(s["kind"], s["status"]) for s in done["plan"]][1:] == [
        ("approval", "rejected"),
        ("task", "rejected"),
    ]
    assert "TASK_EXECUTED" not in event_names(done)
    approval = await approval_of(client, auth, reply["run_id"])
    assert (approval["status"], approval["note"]) == ("expired", "no approver can approve this")
    (expired,) = await events_of(app, "APPROVAL_EXPIRED")
    assert expired.payload["outcome"] == "rejected"


async def test_no_approver_at_a_stage_escalates_when_the_policy_says_so(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await set_policy(
        client,
        auth,
        {
            "stages": [{"subjects": [REQUESTER], "deadline_s": 60}, {"subjects": ["bob"]}],
            "on_deadline": "escalate",
        },
    )
    reply = await gated(client, auth)
    assert reply["run_status"] == "waiting_approval", reply
    approval = await approval_of(client, auth, reply["run_id"])
    assert (approval["status"], approval["stage"], approval["deadline_at"]) == ("pending", 1, None)
    assert [e.payload["stage"] for e in await events_of(app, "APPROVAL_ESCALATED")] == [1]
    assert (await vote(client, auth, approval["id"], "bob")).json()["status"] == "approved"
    await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "completed")


async def test_one_approval_that_cannot_be_handled_does_not_hold_back_the_others(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    await set_policy(client, auth, {"stages": [{"roles": ["operator"], "deadline_s": 3600}]})
    await running_agent(client, auth(), "mailer")
    ids = []
    for reason in ("broken", "fine"):
        created = await client.post(
            "/approvals", json={"agent_id": "mailer", "reason": reason}, headers=auth()
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
        await move_due(app, ids[-1], "deadline_at")
    broken, fine = ids
    async with app.state.sessionmaker() as session, session.begin():  # a gate whose run is gone
        await session.execute(
            update(Approval).where(Approval.id == broken).values(run_id="run_gone", step_idx=1)
        )
    assert await sweep(app) == 1
    assert "could not be handled" in caplog.text
    listed = (await client.get("/approvals", headers=auth("viewer"))).json()["approvals"]
    assert {a["id"]: a["status"] for a in listed} == {broken: "pending", fine: "expired"}
