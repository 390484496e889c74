"""The running app's own leader loop acts on a deadline: nothing here sweeps by hand, so a loop the
lifespan no longer starts fails this test (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.approvals.gates import approval_of, events_of, gated, set_policy
from tests.factories import Auth
from tests.factories.runs import event_names, wait_run

SETTINGS = {"TALKATIVE_APPROVAL_DEADLINE_POLL_S": "0.1", "TALKATIVE_CLUSTER_POLL_S": "0.2"}


async def test_the_leaders_loop_expires_a_step_at_its_deadline(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await set_policy(client, auth, {"stages": [{"roles": ["operator"], "deadline_s": 1}]})
    reply = await gated(client, auth)
    assert reply["run_status"] == "waiting_approval", reply
    done = await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "rejected")
    assert "APPROVAL_EXPIRED" in event_names(done) and "TASK_EXECUTED" not in event_names(done)
    approval = await approval_of(client, auth, reply["run_id"])
    assert approval["status"] == "expired" and approval["decided_at"] >= approval["deadline_at"]
    assert len(await events_of(app, "APPROVAL_EXPIRED")) == 1
