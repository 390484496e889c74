"""The human gate really stops sensitive work: approve resumes it, reject skips it."""

from __future__ import annotations

import httpx

from tests.factories import Auth
from tests.factories.agents import attach_skill, running_agent
from tests.factories.runs import event_names, get_run, wait_run
from tests.factories.skills import write_slow_skill

SENSITIVE = "triage my inbox then transfer funds to supplier"


async def _gated(client: httpx.AsyncClient, auth: Auth) -> tuple[str, str]:
    reply = (await client.post("/agents/mailer/message", json={"message": SENSITIVE}, headers=auth())).json()
    assert reply["run_status"] == "waiting_approval", reply
    kinds = [(a["type"], a.get("skill")) for a in reply["actions"]]
    assert ("tool.executed", "mail-triage") in kinds
    gate = next(a for a in reply["actions"] if a["type"] == "human_approval_required")
    assert "transfer" in gate["detail"]["reason"]
    return reply["run_id"], gate["detail"]["approval_id"]


async def test_approve_resumes_the_gated_step(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    run_id, approval_id = await _gated(client, auth)
    waiting = await get_run(client, auth(), run_id)
    assert waiting["status"] == "waiting_approval" and "TASK_EXECUTED" not in event_names(waiting)
    pending = (await client.get("/approvals", params={"status": "pending"}, headers=auth("viewer"))).json()
    assert [a["id"] for a in pending["approvals"]] == [approval_id]

    decided = await client.post(
        f"/approvals/{approval_id}/decision",
        json={"decision": "approved", "note": "ok"},
        headers=auth(sub="ana"),
    )
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["decided_by"]) == ("approved", "ana")
    done = await wait_run(client, auth(), run_id, lambda r: r["status"] == "completed")
    names = event_names(done)
    assert names.index("APPROVAL_REQUESTED") < names.index("APPROVAL_DECIDED") < names.index("TASK_EXECUTED")
    assert [s["status"] for s in done["plan"]] == ["done", "done", "done"]
    again = await client.post(
        f"/approvals/{approval_id}/decision", json={"decision": "rejected"}, headers=auth()
    )
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_DECIDED"


async def test_reject_records_the_step_and_executes_nothing(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    run_id, approval_id = await _gated(client, auth)
    rejected = await client.post(
        f"/approvals/{approval_id}/decision", json={"decision": "rejected"}, headers=auth()
    )
    assert rejected.status_code == 200
    # Rejected, not completed: the run says a human stopped part of it.
    done = await wait_run(client, auth(), run_id, lambda r: r["status"] == "rejected")
    assert done["allowed_actions"] == [] and done["finished_at"] is not None
    assert done["last_error"] is None  # nothing failed
    assert [(s["kind"], s["status"]) for s in done["plan"]] == [
        ("tool", "done"),
        ("approval", "rejected"),
        ("task", "rejected"),
    ]
    assert "TASK_EXECUTED" not in event_names(done) and "STEP_REJECTED" in event_names(done)
    assert event_names(done)[-1] == "RUN_REJECTED" and "RUN_COMPLETED" not in event_names(done)
    assert "rejected by a human" in done["steps"][-1]["payload"]["reason"]
    assert "rejected" in done["reply"]
    listed = await client.get("/orchestrator/runs", params={"status": "rejected"}, headers=auth())
    assert [r["run_id"] for r in listed.json()["runs"]] == [run_id]


async def test_a_cancelled_runs_approval_names_who_cancelled(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    run_id, approval_id = await _gated(client, auth)
    cancelled = await client.post(f"/orchestrator/runs/{run_id}/cancel", headers=auth(sub="bea"))
    assert cancelled.status_code == 200, cancelled.text
    late = await client.post(
        f"/approvals/{approval_id}/decision", json={"decision": "approved"}, headers=auth(sub="ana")
    )
    assert late.status_code == 409 and late.json()["code"] == "ALREADY_DECIDED"
    assert late.json()["error"].endswith("already cancelled by bea"), late.text
    (listed,) = (await client.get("/approvals", headers=auth("viewer"))).json()["approvals"]
    assert (listed["status"], listed["decided_by"], listed["note"]) == ("cancelled", "bea", "run cancelled")


async def test_who_may_decide(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    _, approval_id = await _gated(client, auth)
    url = f"/approvals/{approval_id}/decision"
    viewer = await client.post(url, json={"decision": "approved"}, headers=auth("viewer"))
    assert viewer.status_code == 403
    stranger = await client.post(url, json={"decision": "approved"}, headers=auth("operator", "tenant-b"))
    assert stranger.status_code == 404
    bad = await client.post(url, json={"decision": "maybe"}, headers=auth())
    assert bad.status_code == 422
    forged = await client.post(url, json={"decision": "approved", "decided_by": "boss"}, headers=auth())
    assert forged.status_code == 422  # the decider comes from the token only
    still = (await client.get("/approvals", headers=auth())).json()["approvals"][0]
    assert still["status"] == "pending" and still["decided_by"] is None


async def test_skill_marked_requires_approval_waits(
    client: httpx.AsyncClient, auth: Auth, settings: object
) -> None:
    from talkative.settings import Settings

    assert isinstance(settings, Settings)
    await running_agent(client, auth(), "careful")
    write_slow_skill(
        settings.workspaces_dir / "tenant-a/careful", "guarded", "guarded", requires_approval=True
    )
    await attach_skill(client, auth(), "careful", "guarded")
    (settings.workspaces_dir / "tenant-a/careful/inputs/sleep.txt").write_text("0")
    reply = (
        await client.post("/agents/careful/message", json={"message": "guarded job"}, headers=auth())
    ).json()
    assert reply["run_status"] == "waiting_approval"
    assert not (settings.workspaces_dir / "tenant-a/careful/outputs/executions.log").exists()
    approval_id = next(a for a in reply["actions"] if a["type"] == "human_approval_required")["detail"][
        "approval_id"
    ]
    await client.post(f"/approvals/{approval_id}/decision", json={"decision": "approved"}, headers=auth())
    await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "completed")
    assert (settings.workspaces_dir / "tenant-a/careful/outputs/executions.log").read_text() == "guarded\n"


async def test_manual_approval_request(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer")
    created = await client.post(
        "/approvals", json={"agent_id": "mailer", "reason": "open the vault"}, headers=auth()
    )
    assert created.status_code == 201 and created.json()["status"] == "pending"
    other = await client.post(
        "/approvals", json={"agent_id": "mailer", "reason": "x", "tenant_id": "tenant-b"}, headers=auth()
    )
    assert other.status_code == 403
    listed = (await client.get("/approvals", headers=auth("viewer", "tenant-b"))).json()
    assert listed["approvals"] == []


async def test_a_heartbeat_does_not_bypass_a_skill_s_approval(
    app: object, client: httpx.AsyncClient, auth: Auth, settings: object
) -> None:
    """A `RUN` line of a skill that requires approval waits for a human, on the schedule and when asked."""
    from fastapi import FastAPI

    from talkative.orchestrator import flows
    from talkative.settings import Settings

    assert isinstance(settings, Settings) and isinstance(app, FastAPI)
    workspace = settings.workspaces_dir / "tenant-a/careful"
    await running_agent(client, auth(), "careful")
    write_slow_skill(workspace, "guarded", "guarded", requires_approval=True)
    (workspace / "HEARTBEAT.md").write_text("RUN python skills/guarded/scripts/slow.py guarded\n")
    (workspace / "inputs/sleep.txt").write_text("0")
    await attach_skill(client, auth(), "careful", "guarded")

    scheduled = await flows.run_heartbeat(app.state.runtime, tenant_id="tenant-a", agent_id="careful")
    assert scheduled is not None
    waiting = await wait_run(client, auth(), scheduled, lambda r: r["status"] == "waiting_approval")
    asked = (
        await client.post("/agents/careful/message", json={"message": "run heartbeat now"}, headers=auth())
    ).json()
    assert asked["run_status"] == "waiting_approval", asked
    assert not (workspace / "outputs/executions.log").exists()
    assert "TOOL_RUN_STARTED" not in event_names(waiting)

    pending = (await client.get("/approvals", params={"status": "pending"}, headers=auth())).json()
    assert len(pending["approvals"]) == 2
    for approval in pending["approvals"]:
        decided = await client.post(
            f"/approvals/{approval['id']}/decision", json={"decision": "approved"}, headers=auth()
        )
        assert decided.status_code == 200, decided.text
    await wait_run(client, auth(), scheduled, lambda r: r["status"] == "completed")
    await wait_run(client, auth(), asked["run_id"], lambda r: r["status"] == "completed")
    assert (workspace / "outputs/executions.log").read_text() == "guarded\nguarded\n"
