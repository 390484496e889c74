"""A tool step started twice (its worker died after the effect) does its `once` effect once: both
attempts get the step's idempotency key, the second one attempt 2, and nothing of the server's."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from talkative.db import utcnow
from talkative.runs.models import Run, RunStep
from talkative.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import Auth
from tests.factories.agents import attach_skill, running_agent
from tests.factories.runs import wait_run
from tests.factories.skills import write_once_skill

# What a sandboxed skill's environment holds: an allow-list (tools/execution.py; TMPDIR from
# confine.py), the step's two included.
SKILL_ENV = {
    "PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "TALKATIVE_WORKSPACE",
    "TALKATIVE_IDEMPOTENCY_KEY", "TALKATIVE_ATTEMPT",
}  # fmt: skip


def _attempts(workspace: Path) -> list[dict[str, Any]]:
    lines = (workspace / "outputs/attempts.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


async def _message(client: httpx.AsyncClient, auth: Auth) -> str:
    reply = await client.post("/agents/oncer/message", json={"message": "do the effect"}, headers=auth())
    assert reply.status_code == 200, reply.text
    assert reply.json()["run_status"] == "completed", reply.text
    return str(reply.json()["run_id"])


async def _orphan(app: FastAPI, run_id: str) -> None:
    """The run as a worker leaves it that died after the step's effect, before storing its outcome."""
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(
                status="running",
                subagent_state="running",
                lease_owner="dead-worker",
                lease_until=utcnow() - timedelta(seconds=1),
                finished_at=None,
                reply=None,
            )
        )
        await session.execute(
            update(RunStep).where(RunStep.run_id == run_id, RunStep.idx == 0).values(status="running")
        )
    app.state.runtime.worker.wake()


async def test_a_step_taken_over_gets_the_same_key_the_next_attempt_and_skips_its_done_effect(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_JWT_SECRET", TEST_SECRET)  # in the server's environment, never the skill's
    await running_agent(client, auth(), "oncer")
    workspace = settings.workspaces_dir / "tenant-a/oncer"
    write_once_skill(workspace, "effect", "effect")
    await attach_skill(client, auth(), "oncer", "effect")

    run_id = await _message(client, auth)
    [first] = _attempts(workspace)
    assert set(first) == SKILL_ENV and TEST_SECRET not in first.values()
    assert (first["TALKATIVE_IDEMPOTENCY_KEY"], first["TALKATIVE_ATTEMPT"]) == (f"{run_id}:0", "1")
    assert (workspace / "outputs/effects.log").read_text() == "done\n"

    await _orphan(app, run_id)
    run = await wait_run(client, auth(), run_id, lambda r: r["status"] == "completed")
    assert [(s["status"], s["attempts"]) for s in run["plan"]] == [("done", 2)]
    second = _attempts(workspace)[1]
    assert (second["TALKATIVE_IDEMPOTENCY_KEY"], second["TALKATIVE_ATTEMPT"]) == (f"{run_id}:0", "2")
    assert (workspace / "outputs/effects.log").read_text() == "done\n"  # not done again
    assert json.loads((workspace / "outputs/effect.json").read_text())["data"] == {"did": False}

    other = await _message(client, auth)  # another run: another step, the effect again
    assert _attempts(workspace)[2]["TALKATIVE_IDEMPOTENCY_KEY"] == f"{other}:0"
    assert (workspace / "outputs/effects.log").read_text() == "done\ndone\n"
