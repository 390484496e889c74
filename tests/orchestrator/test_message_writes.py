"""What a message writes: a run that ends where it opened, and one whose steps the worker drives.

How many statements a message costs is a benchmark figure (bench/writes.py), not a test's pin."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.factories import Auth
from tests.factories.agents import running_agent


async def test_a_run_that_ends_where_it_opened_is_completed_with_its_workflow_version(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "books", template="mail-triage")
    reply = await client.post(
        "/agents/books/message", json={"message": "collect invoices then pay supplier"}, headers=auth()
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["run_status"] == "completed"

    run = (await client.get(f"/orchestrator/runs/{reply.json()['run_id']}", headers=auth())).json()
    assert run["status"] == "completed" and run["finished_at"] is not None
    workflow = (await client.get("/agents/books/workflow", headers=auth())).json()
    assert workflow["version"] == 1 and workflow["versions"][-1]["run_id"] == reply.json()["run_id"]


async def test_a_run_with_steps_is_written_with_them_and_then_driven(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = await client.post("/agents/mailer/message", json={"message": "triage inbox now"}, headers=auth())
    assert reply.status_code == 200, reply.text
    assert reply.json()["run_status"] == "completed"
    assert [a["type"] for a in reply.json()["actions"]] == ["tool.executed"]

    run_id = reply.json()["run_id"]
    run = (await client.get(f"/orchestrator/runs/{run_id}", headers=auth())).json()
    assert [(s["kind"], s["status"], s["attempts"]) for s in run["plan"]] == [("tool", "done", 1)]
    stored = (await client.get("/agents/mailer/events", params={"tail": 50}, headers=auth())).json()["events"]
    types = [e["type"] for e in stored if e["run_id"] == run_id]
    assert (
        types.index("WORKFLOW_PATCH_APPLIED")
        < types.index("TOOL_RUN_STARTED")
        < types.index("TOOL_RUN_FINISHED")
    )
