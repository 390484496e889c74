"""A healthy history built through the API, and the corruptions the integrity tests plant in it.

Each plant writes behind the API's back, as a bug or a bad restore would, through an engine of its
own (not the app's sessions, whose commit hooks publish events).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents.models import Agent
from talkative.db import create_engine, make_sessionmaker, utcnow
from talkative.events.models import EventRow
from talkative.llm_router.models import UsageRow
from talkative.runs.models import Run, RunStep
from talkative.workflows.models import Workflow, WorkflowVersion
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import send_message, waiting_run


@dataclass(frozen=True)
class History:
    completed_run: str  # tenant-a's agent alpha: a message that completed
    cancelled_run: str  # ... and one cancelled at its approval gate
    workflow_id: str  # alpha's workflow, at v3


async def build_history(client: httpx.AsyncClient, auth: Auth) -> History:
    """Two tenants with an agent of the same id, messages (new tasks, a repeat, an approval gate
    cancelled), and an agent deleted with its events kept."""
    a, b = auth("operator", "tenant-a"), auth("operator", "tenant-b")
    await running_agent(client, a, "alpha")
    first = await send_message(client, a, "alpha", "collect invoices, then email the client")
    assert first["run_status"] == "completed", first
    await send_message(client, a, "alpha", "collect invoices, then email the client")  # unchanged
    await send_message(client, a, "alpha", "archive receipts")  # v2
    gated = await waiting_run(client, a, "alpha")
    cancelled = await client.post(f"/orchestrator/runs/{gated}/cancel", headers=a)
    assert cancelled.status_code == 200, cancelled.text
    await running_agent(client, b, "alpha")
    await send_message(client, b, "alpha", "count stock")
    await running_agent(client, b, "gone")
    await send_message(client, b, "gone", "count stock")
    assert (await client.post("/agents/gone/stop", headers=b)).status_code == 200
    deleted = await client.delete("/agents/gone", headers=b)
    assert deleted.status_code == 204, deleted.text
    workflow = await client.get("/agents/alpha/workflow", headers=a)
    assert workflow.status_code == 200, workflow.text
    assert workflow.json()["version"] == 3, workflow.json()  # the gated task is a node too
    return History(first["run_id"], gated, workflow.json()["id"])


@asynccontextmanager
async def writing(url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


async def completed_run_with_pending_step(url: str, history: History) -> tuple[str, ...]:
    async with writing(url) as session:
        session.add(RunStep(run_id=history.completed_run, idx=99, kind="task", name="late", status="pending"))
    return ("tenant-a", history.completed_run)


async def held_reservation_of_finished_run(url: str, history: History) -> tuple[str, ...]:
    async with writing(url) as session:
        row = UsageRow(
            tenant_id="tenant-a", agent_id="alpha", run_id=history.cancelled_run, model="openai/gpt-test",
            status="reserved", cost=0.5,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        usage_id = row.id
    return ("tenant-a", history.cancelled_run, f"usage:{usage_id}")


async def cross_tenant_event(url: str, history: History) -> tuple[str, ...]:
    async with writing(url) as session:
        event = EventRow(
            tenant_id="tenant-b", agent_id="alpha", run_id=history.completed_run, type="TOOL_RUN_STARTED",
            message="", payload={},
        )  # fmt: skip
        session.add(event)
        await session.flush()
        event_id = event.id
    return ("tenant-b", f"event:{event_id}", history.completed_run)


async def missing_workspace(workspaces_dir: Path) -> tuple[str, ...]:
    shutil.rmtree(workspaces_dir / "tenant-a" / "alpha")
    return ("tenant-a", "alpha")


async def gap_in_versions(url: str, history: History) -> tuple[str, ...]:
    async with writing(url) as session:
        await session.execute(
            delete(WorkflowVersion).where(
                WorkflowVersion.workflow_id == history.workflow_id, WorkflowVersion.version == 1
            )
        )
    return ("tenant-a", history.workflow_id)


async def shared_workspace(url: str) -> tuple[str, ...]:
    async with writing(url) as session:
        stored = await session.scalar(
            select(Agent.workspace).where(Agent.tenant_id == "tenant-a", Agent.id == "alpha")
        )
        await session.execute(
            update(Agent).where(Agent.tenant_id == "tenant-b", Agent.id == "alpha").values(workspace=stored)
        )
    return ("tenant-a", "alpha", "tenant-b", "alpha")


async def finished_run_without_its_end(url: str, history: History) -> tuple[str, ...]:
    async with writing(url) as session:
        await session.execute(
            update(Run)
            .where(Run.id == history.cancelled_run)
            .values(status="completed", finished_at=utcnow())
        )
    return ("tenant-a", history.cancelled_run)


async def workflow_pointing_past_its_versions(url: str, history: History) -> tuple[str, ...]:
    async with writing(url) as session:
        await session.execute(update(Workflow).where(Workflow.id == history.workflow_id).values(version=5))
    return ("tenant-a", history.workflow_id)
