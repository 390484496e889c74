"""Runs reach the worker one way only: a flow commits the planned run and wakes the worker, which
claims it. Nothing else drives a run (no hand-over from the flow, no second entry point)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from talkative.orchestrator.worker import Worker
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import wait_run

SETTINGS = {"TALKATIVE_MESSAGE_WAIT_S": 0}


async def test_a_message_run_is_driven_only_once_claimed(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    claim = Worker.claim
    gate = asyncio.Event()

    async def held(self: Worker, limit: int) -> list[str]:
        await gate.wait()  # the claim path is closed until the test opens it
        return await claim(self, limit)

    monkeypatch.setattr(Worker, "claim", held)
    reply = await client.post("/agents/mailer/message", json={"message": "triage inbox now"}, headers=auth())
    assert reply.status_code == 200, reply.text
    run_id = reply.json()["run_id"]
    assert reply.json()["run_status"] == "running"  # planned and committed, waiting for the worker
    runs = (await client.get(f"/orchestrator/runs/{run_id}", headers=auth())).json()
    assert [(s["kind"], s["status"], s["attempts"]) for s in runs["plan"]] == [("tool", "pending", 0)]

    gate.set()
    app.state.runtime.worker.wake()
    run = await wait_run(client, auth(), run_id, lambda r: r["status"] == "completed")
    assert [(s["kind"], s["status"], s["attempts"]) for s in run["plan"]] == [("tool", "done", 1)]
