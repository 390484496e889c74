"""Votes under a tenant's approval policy: two approvals mean two different approvers, never the
requester, only those the stage names; without a policy, one operator (the requester too) decides."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from talkative.runs.models import Run
from tests.approvals.gates import REQUESTER, approval_of, events_of, gated, set_policy, vote
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import event_names, wait_run

TWO_OPERATORS = {"stages": [{"roles": ["operator"], "required": 2}]}


async def test_two_different_operators_approve_and_not_one_twice(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await set_policy(client, auth, TWO_OPERATORS)
    reply = await gated(client, auth)
    assert reply["run_status"] == "waiting_approval", reply
    approval = await approval_of(client, auth, reply["run_id"])
    assert (approval["requested_by"], approval["required"], approval["stage"], approval["policy"]) == (
        REQUESTER,
        2,
        0,
        True,
    )
    assert approval["approvers"] == {"roles": ["operator"], "subjects": []} and approval["votes"] == []
    (requested,) = await events_of(app, "APPROVAL_REQUESTED")
    assert requested.payload == {
        "approval_id": approval["id"],
        "reason": approval["reason"],
        "step": approval["step"],
        "requested_by": REQUESTER,
        "required": 2,
        "stage": 0,
        "deadline_at": None,
        "approvers": {"roles": ["operator"], "subjects": []},
    }

    own = await vote(client, auth, approval["id"], REQUESTER)
    assert own.status_code == 403 and own.json()["code"] == "SELF_APPROVAL", own.text
    viewer = await vote(client, auth, approval["id"], "vic", role="viewer")
    assert viewer.status_code == 403

    first = await vote(client, auth, approval["id"], "ana")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending" and first.json()["decided_by"] is None
    assert [(v["subject"], v["decision"], v["role"]) for v in first.json()["votes"]] == [
        ("ana", "approved", "operator")
    ]
    twice = await vote(client, auth, approval["id"], "ana")
    assert twice.status_code == 409 and twice.json()["code"] == "ALREADY_VOTED", twice.text
    still = await approval_of(client, auth, reply["run_id"])
    assert still["status"] == "pending" and len(still["votes"]) == 1
    run = await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "waiting_approval")
    assert "TASK_EXECUTED" not in event_names(run) and "APPROVAL_DECIDED" not in event_names(run)

    second = await vote(client, auth, approval["id"], "bob")
    assert second.status_code == 200, second.text
    assert (second.json()["status"], second.json()["decided_by"]) == ("approved", "bob")
    assert [v["subject"] for v in second.json()["votes"]] == ["ana", "bob"]
    done = await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "completed")
    assert "TASK_EXECUTED" in event_names(done)
    late = await vote(client, auth, approval["id"], "cid")
    assert late.status_code == 409 and late.json()["code"] == "ALREADY_DECIDED"


async def test_one_reject_vote_rejects(client: httpx.AsyncClient, auth: Auth) -> None:
    await set_policy(client, auth, TWO_OPERATORS)
    reply = await gated(client, auth)
    approval = await approval_of(client, auth, reply["run_id"])
    assert (await vote(client, auth, approval["id"], "ana")).status_code == 200
    rejected = await vote(client, auth, approval["id"], "bob", "rejected")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected", rejected.text
    done = await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "rejected")
    assert [(s["kind"], s["status"]) for s in done["plan"]][1:] == [
        ("approval", "rejected"),
        ("task", "rejected"),
    ]


async def test_only_the_named_subjects_approve(client: httpx.AsyncClient, auth: Auth) -> None:
    await set_policy(client, auth, {"stages": [{"subjects": ["carol", REQUESTER]}]})
    reply = await gated(client, auth)
    approval = await approval_of(client, auth, reply["run_id"])
    stranger = await vote(client, auth, approval["id"], "ana")
    assert stranger.status_code == 403 and stranger.json()["code"] == "NOT_AN_APPROVER", stranger.text
    admin = await vote(client, auth, approval["id"], "root", role="admin")
    assert admin.status_code == 403 and admin.json()["code"] == "NOT_AN_APPROVER"
    own = await vote(client, auth, approval["id"], REQUESTER)  # named, but the requester
    assert own.status_code == 403 and own.json()["code"] == "SELF_APPROVAL"
    other_tenant = await client.post(
        f"/approvals/{approval['id']}/decision",
        json={"decision": "approved"},
        headers=auth(tenant="tenant-b", sub="carol"),
    )
    assert other_tenant.status_code == 404
    carol = await vote(client, auth, approval["id"], "carol")
    assert carol.status_code == 200 and carol.json()["status"] == "approved", carol.text
    await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "completed")


async def test_without_a_policy_the_requester_decides_alone(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    reply = await gated(client, auth)
    approval = await approval_of(client, auth, reply["run_id"])
    assert (approval["policy"], approval["requested_by"], approval["required"]) == (False, REQUESTER, 1)
    assert approval["approvers"] == {"roles": ["admin", "operator"], "subjects": []}
    own = await vote(client, auth, approval["id"], REQUESTER)
    assert own.status_code == 200 and own.json()["status"] == "approved", own.text
    assert own.json()["votes"] == []  # no policy: a decision, not a vote
    await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "completed")
    async with app.state.sessionmaker() as session:
        run = await session.scalar(select(Run).where(Run.id == reply["run_id"]))
    assert run is not None and run.requested_by == REQUESTER


async def test_a_policy_change_applies_to_new_approvals(client: httpx.AsyncClient, auth: Auth) -> None:
    await set_policy(client, auth, {"stages": [{"subjects": ["carol"]}]})
    reply = await gated(client, auth)
    approval = await approval_of(client, auth, reply["run_id"])
    await set_policy(client, auth, {"stages": [{"subjects": ["dave"]}]})
    dave = await vote(client, auth, approval["id"], "dave")
    assert dave.status_code == 403 and dave.json()["code"] == "NOT_AN_APPROVER"
    assert (await vote(client, auth, approval["id"], "carol")).json()["status"] == "approved"


async def test_manual_requests_and_child_runs_name_who_asked(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await set_policy(client, auth, {"stages": [{"roles": ["operator"]}]})
    reply = await gated(client, auth)  # a running "mailer" agent
    created = await client.post(
        "/approvals", json={"agent_id": "mailer", "reason": "open the vault"}, headers=auth(sub="ana")
    )
    assert created.status_code == 201 and created.json()["requested_by"] == "ana", created.text
    own = await vote(client, auth, created.json()["id"], "ana")
    assert own.status_code == 403 and own.json()["code"] == "SELF_APPROVAL"
    assert (await vote(client, auth, created.json()["id"], "bob")).json()["status"] == "approved"

    await running_agent(client, auth(), "helper", template="mail-triage")
    command = await client.post(
        "/orchestrator/commands",
        json={
            "agent_id": "mailer",
            "type": "request_delegate",
            "payload": {"target_agent_id": "helper", "text": "hello"},
        },
        headers=auth(sub="dora"),
    )
    assert command.status_code == 202, command.text
    parent_id = command.json()["parent_run_id"]
    child = await wait_run(client, auth(), parent_id, lambda r: bool(r["children"]))
    async with app.state.sessionmaker() as session:
        rows = {
            r.id: r
            for r in await session.scalars(select(Run).where(Run.id.in_([parent_id, *child["children"]])))
        }
    assert {r.requested_by for r in rows.values()} == {"dora"} and len(rows) == 2
    assert reply["run_status"] == "waiting_approval"
