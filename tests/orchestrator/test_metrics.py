"""Runs are counted by kind and final status, and their duration is observed."""

from __future__ import annotations

import re

import httpx

from tests.factories import Auth
from tests.factories.agents import running_agent


def _value(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_runs_counted_by_final_status(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "counted")
    before = (await client.get("/metrics")).text
    await client.post("/agents/counted/message", json={"message": "collect invoices"}, headers=auth())
    waiting = (
        await client.post("/agents/counted/message", json={"message": "wire money"}, headers=auth())
    ).json()
    await client.post(f"/orchestrator/runs/{waiting['run_id']}/cancel", headers=auth())
    after = (await client.get("/metrics")).text
    completed = 'kind="message",status="completed"'
    cancelled = 'kind="message",status="cancelled"'
    assert (
        _value(after, "talkative_agent_runs_total", completed)
        == _value(before, "talkative_agent_runs_total", completed) + 1
    )
    assert (
        _value(after, "talkative_agent_runs_total", cancelled)
        == _value(before, "talkative_agent_runs_total", cancelled) + 1
    )
    count = "talkative_run_duration_seconds_count"
    assert _value(after, count, completed) == _value(before, count, completed) + 1
