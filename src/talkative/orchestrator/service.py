"""Runs: opened for every piece of agent work, finished with its outcome."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import utcnow
from talkative.errors import NotFound
from talkative.observability.metrics import AGENT_RUNS
from talkative.orchestrator.models import Run


def new_run_id() -> str:
    return f"run_{secrets.token_hex(8)}"


async def open_run(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str,
    kind: str,
    text: str,
    parent_run_id: str | None = None,
) -> Run:
    now = utcnow()
    run = Run(
        id=new_run_id(),
        tenant_id=tenant_id,
        agent_id=agent_id,
        parent_run_id=parent_run_id,
        kind=kind,
        input=text,
        status="running",
        subagent_state="running",
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    AGENT_RUNS.labels(kind).inc()
    return run


def finish(run: Run, *, error: str | None = None) -> None:
    run.status = "failed" if error else "completed"
    run.subagent_state = "error" if error else "idle"
    run.last_error = error
    run.updated_at = utcnow()


async def get(session: AsyncSession, run_id: str) -> Run:
    run = await session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run '{run_id}' not found", code="RUN_NOT_FOUND")
    return run
