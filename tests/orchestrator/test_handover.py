"""A run opened by a message goes straight to this process's worker: no claim, no polling pass."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from talkative.orchestrator.worker import Worker
from tests.factories import Auth
from tests.factories.agents import running_agent


async def test_a_message_run_is_driven_without_being_claimed(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")

    async def never(self: Worker, limit: int) -> list[str]:
        return []  # the claim path is closed: only a handed-over run can be driven

    monkeypatch.setattr(Worker, "claim", never)
    reply = await client.post("/agents/mailer/message", json={"message": "triage inbox now"}, headers=auth())

    assert reply.status_code == 200, reply.text
    assert reply.json()["run_status"] == "completed"
    assert [a["type"] for a in reply.json()["actions"]] == ["tool.executed"]
    assert app.state.runtime.worker._reserved == 0  # every slot promised was used or given back


async def test_without_a_free_slot_the_run_waits_for_a_claim(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    monkeypatch.setattr(Worker, "reserve", lambda self: False)

    reply = await client.post("/agents/mailer/message", json={"message": "triage inbox now"}, headers=auth())

    assert reply.status_code == 200, reply.text
    assert reply.json()["run_status"] == "completed"  # claimed by the worker's pass instead
