"""Executing one step of a run: persisted before it starts and after it ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from talkative.agents.models import Agent
from talkative.approvals import service as approvals
from talkative.db import utcnow
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.orchestrator import service as runs
from talkative.orchestrator import tooling
from talkative.orchestrator.models import Run, RunStep
from talkative.orchestrator.reducer import RunAction
from talkative.orchestrator.runtime import Runtime
from talkative.orchestrator.tooling import ToolCall

MAX_ATTEMPTS = 3
OPEN = ("pending", "running")


@dataclass(frozen=True)
class StartedTool:
    """A tool step marked running by a transaction that has committed: what running it needs."""

    idx: int
    spec: dict[str, Any]
    workspace: str


def start_tool(run: Run, step: RunStep, workspace: str, lease: timedelta) -> tuple[StartedTool, NewEvent]:
    """Marks a tool step running (one more attempt) and renews the lease; returns what runs it and
    its TOOL_RUN_STARTED event, for the caller's transaction to store."""
    step.status, step.attempts, step.started_at = "running", step.attempts + 1, utcnow()
    run.lease_until = utcnow() + lease
    spec = step.spec
    call = ToolCall.of(spec)
    event = tooling.started_event(call, tenant_id=run.tenant_id, agent_id=run.agent_id, run_id=run.id)
    return StartedTool(step.idx, dict(spec), workspace), event


def _event(run: Run, type_: str, message: str, payload: dict[str, Any]) -> NewEvent:
    return NewEvent(
        type=type_,
        tenant_id=run.tenant_id,
        agent_id=run.agent_id,
        run_id=run.id,
        message=message,
        payload=payload,
    )


async def finish_run(
    runtime: Runtime, session: Any, run: Run, all_steps: list[RunStep], *, into: list[NewEvent] | None = None
) -> None:
    """Ends the run after its last step; its status event is stored now, or added to `into`."""
    failed = [s for s in all_steps if s.status == "failed"]
    reason = "; ".join(str((s.result or {}).get("error") or s.name) for s in failed) or None
    run.reply = summarize_outcome(run, all_steps)
    action = RunAction.FAIL if failed else RunAction.COMPLETE
    await runs.transition(session, run, action, reason=reason, into=into)


def summarize_outcome(run: Run, all_steps: list[RunStep]) -> str:
    understood = str((run.result or {}).get("summary") or "")
    parts = [understood] if understood else []
    patch = (run.result or {}).get("workflowPatch")
    if patch:
        parts.append(f"Workflow v{patch.get('version')}: {patch.get('summary')}.")
    for step in all_steps:
        if step.kind == "tool":
            parts.append(f"{step.spec.get('skill')} {'finished' if step.status == 'done' else step.status}.")
        elif step.kind == "task":
            parts.append(f"{step.name}: {'done' if step.status == 'done' else step.status}.")
        elif step.kind == "approval" and step.status == "rejected":
            parts.append(f"{step.spec.get('task')}: rejected by a human, not executed.")
        elif step.kind == "delegate":
            outcome = (step.result or {}).get("status", step.status)
            parts.append(f"Delegated to {step.spec.get('target_agent_id')}: {outcome}.")
    return " ".join(parts)


async def release_lease(runtime: Runtime, run_id: str, owner: str) -> None:
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(
            update(Run)
            .where(Run.id == run_id, Run.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


async def advance(runtime: Runtime, *, run_id: str, owner: str, lease: timedelta) -> bool:
    """Starts the run's next step (or finishes the run); returns whether to call again. When it
    returns False the run's lease is no longer `owner`'s (released in the step's own transaction
    wherever possible, so the worker needs no transaction of its own to let go)."""
    async with runtime.sessionmaker() as session, session.begin():
        run = await runs.get(session, run_id, for_update=True)
        if run.lease_owner != owner:
            return False
        if run.status != "running":
            run.lease_owner, run.lease_until = None, None
            return False
        all_steps = await runs.steps_of(session, run_id)
        step = next((s for s in all_steps if s.status in OPEN), None)
        if step is None:
            await finish_run(runtime, session, run, all_steps)
            return False
        if step.status == "running" and step.attempts >= MAX_ATTEMPTS:
            step.status, step.result, step.finished_at = (
                "failed",
                {"error": "interrupted too many times"},
                utcnow(),
            )
            return True
        started = None
        if step.kind == "tool":
            agent = await session.get(Agent, (run.tenant_id, run.agent_id))
            if agent is None:  # the run cannot continue: fail the step, the run fails with the reason
                step.status, step.finished_at = "failed", utcnow()
                step.result = {"error": f"agent '{run.agent_id}' no longer exists"}
                return True
            started, event = start_tool(run, step, agent.workspace, lease)
            await events.append(session, [event])
        else:
            step.status, step.attempts, step.started_at = "running", step.attempts + 1, utcnow()
            run.lease_until = utcnow() + lease
        if step.kind == "approval":
            return await _request_approval(session, run, step)
        if step.kind == "task":
            step.status, step.finished_at, step.result = "done", utcnow(), {"executed": True}
            await events.append(
                session, [_event(run, EventType.TASK_EXECUTED, step.name, {"step": step.idx})]
            )
            return True
        kind, spec, idx = step.kind, dict(step.spec), step.idx
    if started is not None:
        return await run_started_tool(runtime, run_id=run_id, owner=owner, lease=lease, started=started)
    if kind == "delegate":
        from talkative.orchestrator import delegation  # the delegate flow starts runs: imported late

        again = await _with_lease(
            runtime,
            run_id,
            owner,
            lease,
            lambda: delegation.execute(runtime, run_id=run_id, idx=idx, spec=spec),
        )
        if not again:  # paused or cancelled while the child ran: its transactions kept the lease
            await release_lease(runtime, run_id, owner)
        return again
    raise ValueError(f"unknown step kind {kind!r}")


async def _request_approval(session: Any, run: Run, step: RunStep) -> bool:
    approval = await approvals.request(
        session,
        tenant_id=run.tenant_id,
        agent_id=run.agent_id,
        run_id=run.id,
        reason=step.spec["reason"],
        step_idx=step.idx,
    )
    step.status, step.result = "waiting", {"approval_id": approval.id}
    await runs.transition(
        session, run, RunAction.WAIT_APPROVAL, payload={"approval_id": approval.id, "step": step.idx}
    )
    run.lease_owner, run.lease_until = None, None
    return False


async def _with_lease(
    runtime: Runtime, run_id: str, owner: str, lease: timedelta, work: Callable[[], Awaitable[bool]]
) -> bool:
    """Runs `work` while renewing the lease; a cancel of the run sets the run's cancel signal."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            async with runtime.sessionmaker() as session, session.begin():
                await session.execute(
                    update(Run)
                    .where(Run.id == run_id, Run.lease_owner == owner)
                    .values(lease_until=utcnow() + lease)
                )
                status = (await runs.get(session, run_id)).status
            if status == "cancelled":
                runtime.watch.cancel(run_id)

    renewer = asyncio.create_task(renew())
    try:
        return await work()
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer


async def run_started_tool(
    runtime: Runtime, *, run_id: str, owner: str, lease: timedelta, started: StartedTool
) -> bool:
    """Runs a tool step `start_tool` started and stores its outcome; returns as `advance` does."""
    spec, idx = started.spec, started.idx
    call = ToolCall.of(spec)
    cancel = runtime.watch.cancel_signal(run_id)

    async def work() -> bool:
        result = await tooling.execute(runtime, workspace_rel=started.workspace, call=call, cancel=cancel)
        async with runtime.sessionmaker() as session, session.begin():
            run = await runs.get(session, run_id, for_update=True)
            # All the run's steps in one read: this one is updated in place, the others tell
            # whether the run goes on (one query, and one flush at commit).
            all_steps = await runs.steps_of(session, run_id)
            step = next(s for s in all_steps if s.idx == idx)
            step.status = "done" if result.ok else ("cancelled" if run.status == "cancelled" else "failed")
            step.finished_at = utcnow()
            step.result = {
                "ok": result.ok,
                "exit_code": result.exit_code,
                "artifacts": result.artifacts,
                "error": result.error.message if result.error else None,
                "error_code": str(result.error.code) if result.error else None,
                "duration_ms": result.metrics.duration_ms,
            }
            trail = tooling.finished_events(
                call, result, tenant_id=run.tenant_id, agent_id=run.agent_id, run_id=run.id
            )
            held = run.lease_owner == owner  # else taken over meanwhile: the rest is the new holder's
            go_on = False
            if held and run.status != "running":  # paused or cancelled meanwhile: no new step starts
                run.lease_owner, run.lease_until = None, None
            elif held and any(s.status in OPEN for s in all_steps):
                go_on = True
            elif held:  # that was the last step: the run ends in this transaction, not in one more
                await finish_run(runtime, session, run, all_steps, into=trail)
            await events.append(session, trail)
            return go_on

    try:
        return await _with_lease(runtime, run_id, owner, lease, work)
    finally:
        runtime.watch.release(run_id)
