"""A message's opening transaction writes each row once: the run is inserted in its final state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from tests.factories import Auth
from tests.factories.agents import running_agent


@contextmanager
def writes(app: FastAPI) -> Iterator[Counter[str]]:
    """Counts the INSERT/UPDATE statements sent, by verb and table ("INSERT runs")."""
    seen: Counter[str] = Counter()

    def record(_c: object, _cur: object, statement: str, *_: Any) -> None:
        words = statement.split()
        if words[0] == "INSERT":
            seen[f"INSERT {words[2]}"] += 1
        elif words[0] == "UPDATE":
            seen[f"UPDATE {words[1]}"] += 1

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_run_that_ends_where_it_opened_is_one_insert(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "books", template="mail-triage")
    with writes(app) as seen:
        reply = await client.post(
            "/agents/books/message", json={"message": "collect invoices then pay supplier"}, headers=auth()
        )
    assert reply.status_code == 200, reply.text
    assert reply.json()["run_status"] == "completed"
    assert seen["INSERT runs"] == 1 and seen["UPDATE runs"] == 0, seen
    assert seen["INSERT workflow_versions"] == 1 and seen["UPDATE workflows"] == 1, seen

    run = (await client.get(f"/orchestrator/runs/{reply.json()['run_id']}", headers=auth())).json()
    assert run["status"] == "completed" and run["finished_at"] is not None
    workflow = (await client.get("/agents/books/workflow", headers=auth())).json()
    assert workflow["version"] == 1 and workflow["versions"][-1]["run_id"] == reply.json()["run_id"]


async def test_a_run_with_steps_is_written_with_them_and_then_driven(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    with writes(app) as seen:
        reply = await client.post(
            "/agents/mailer/message", json={"message": "triage inbox now"}, headers=auth()
        )
    assert reply.status_code == 200, reply.text
    assert reply.json()["run_status"] == "completed"
    assert [a["type"] for a in reply.json()["actions"]] == ["tool.executed"]
    assert seen["INSERT runs"] == 1 and seen["INSERT run_steps"] == 1, seen
    # The step was started in the opening transaction: written once more only when it finished,
    # its outcome and the run's end stored together.
    assert seen["UPDATE run_steps"] == 1 and seen["INSERT events"] == 2, seen

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
