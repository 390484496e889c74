"""A run's detail: plan with timings, attempts, outputs and errors; approvals; parent and children;
and its events, paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.runs import service as runs
from talkative.runs.planner import PlannedStep
from talkative.runs.specs import TaskSpec, ToolSpec
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import get_run, wait_run

SENSITIVE = "triage my inbox then transfer funds to supplier"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_a_rejected_runs_detail(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = (await client.post("/agents/mailer/message", json={"message": SENSITIVE}, headers=auth())).json()
    run_id = reply["run_id"]
    waiting = await get_run(client, auth("viewer"), run_id)
    (pending,) = waiting["approvals"]
    assert (pending["status"], pending["decided_by"], pending["gate"]["guards"][0]["kind"]) == (
        "pending",
        None,
        "task",
    )
    tool = waiting["plan"][0]
    assert (tool["kind"], tool["status"], tool["attempts"], tool["error"]) == ("tool", "done", 1, None)
    assert tool["duration_s"] is not None and tool["duration_s"] >= 0 and tool["result"] is not None
    assert waiting["started_at"] == tool["started_at"] and waiting["duration_s"] is None

    decided = await client.post(
        f"/approvals/{pending['id']}/decision",
        json={"decision": "rejected", "note": "not this week"},
        headers=auth(sub="ana"),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["gate"]["status"] == "rejected" and decided.json()["run"]["run_id"] == run_id
    done = await wait_run(client, auth(), run_id, lambda r: r["status"] == "rejected")
    (approval,) = done["approvals"]
    assert (approval["status"], approval["decided_by"], approval["note"]) == (
        "rejected",
        "ana",
        "not this week",
    )
    assert approval["decided_at"] is not None and approval["run"]["status"] == "rejected"
    assert done["duration_s"] is not None and done["duration_s"] >= 0
    assert done["parent"] is None and done["child_runs"] == [] and done["children"] == []


async def test_parent_children_and_failed_steps(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        parent = await runs.open_run(
            session, tenant_id="tenant-a", agent_id="boss", kind="message", text="go"
        )
        child = await runs.open_run(
            session,
            tenant_id="tenant-a",
            agent_id="helper",
            kind="delegated",
            text="help",
            parent_run_id=parent.id,
        )
        # Another tenant's run naming the parent is not its child.
        await runs.open_run(
            session, tenant_id="tenant-b", agent_id="x", kind="delegated", text="", parent_run_id=parent.id
        )
        await session.flush()
        plan = [
            PlannedStep("run report", ToolSpec(skill="report", command="python skills/report/run.py")),
            PlannedStep("note", TaskSpec(task="note it")),
        ]
        tool, task = await runs.add_steps(session, parent, plan)
        tool.status, tool.attempts, tool.result = "failed", 2, {"error": "exit 3", "exit_code": 3}
        tool.started_at, tool.finished_at = T0, T0 + timedelta(seconds=4)
        task.status = "cancelled"
        parent.status, parent.finished_at = "failed", parent.created_at + timedelta(seconds=9)
    detail = await get_run(client, auth("viewer"), parent.id)
    (link,) = detail["child_runs"]
    assert (link["run_id"], link["agent_id"], link["kind"], link["status"]) == (
        child.id,
        "helper",
        "delegated",
        "pending",
    )
    assert detail["children"] == [child.id]
    failed = detail["plan"][0]
    assert (failed["status"], failed["attempts"], failed["error"], failed["duration_s"]) == (
        "failed",
        2,
        "exit 3",
        4.0,
    )
    assert failed["result"]["exit_code"] == 3 and failed["spec"]["skill"] == "report"
    assert detail["plan"][1]["duration_s"] is None and detail["duration_s"] == 9.0
    assert detail["started_at"] is not None and detail["approvals"] == []
    of_child = await get_run(client, auth(), child.id)
    assert of_child["parent"]["run_id"] == parent.id and of_child["parent"]["status"] == "failed"
    assert (
        await client.get(f"/orchestrator/runs/{parent.id}", headers=auth(tenant="tenant-b"))
    ).status_code == 404


async def test_run_events_paged(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        run = await runs.open_run(session, tenant_id="tenant-a", agent_id="a", kind="task", text="")
        other = await runs.open_run(session, tenant_id="tenant-a", agent_id="a", kind="task", text="")
        await session.flush()
        batch = [
            NewEvent(
                type=EventType.METRIC_RECORDED,
                tenant_id="tenant-a",
                agent_id="a",
                run_id=r,
                message=f"{r}-{i}",
            )
            for i in range(5)
            for r in (run.id, other.id)
        ]
        await events.append(session, batch)
    url = f"/orchestrator/runs/{run.id}/events"
    newest = await client.get(url, params={"limit": 3}, headers=auth("viewer"))
    assert newest.status_code == 200, newest.text
    assert [e["message"] for e in newest.json()["events"]] == [f"{run.id}-{i}" for i in (2, 3, 4)]
    assert newest.json()["has_more"] and newest.json()["live_after"] is not None
    older = await client.get(url, params={"limit": 3, "before": newest.json()["next_before"]}, headers=auth())
    assert [e["message"] for e in older.json()["events"]] == [f"{run.id}-{i}" for i in (0, 1)]
    assert not older.json()["has_more"]
    assert (await client.get(url, headers=auth(tenant="tenant-b"))).status_code == 404
    for params in ({"before": "abc"}, {"limit": 0}, {"limit": 1001}):
        assert (await client.get(url, params=params, headers=auth())).status_code == 422, params
    assert (await client.get("/orchestrator/runs/nope/events", headers=auth())).status_code == 404
    # Not a control action (pause, resume, cancel): the path serves GET only.
    posted = await client.post(url, headers=auth())
    assert posted.status_code == 405 and posted.headers["Allow"] == "GET", posted.text
    assert (await client.post(f"/orchestrator/runs/{run.id}/stop", headers=auth())).status_code == 422
