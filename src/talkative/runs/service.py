"""Runs and their steps: opened for every piece of agent work, changed only through the reducer."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative import paging
from talkative.db import newest_last, utcnow
from talkative.errors import InvalidInput, NotFound
from talkative.events import service as events
from talkative.events.schemas import Event, NewEvent
from talkative.observability import tracing
from talkative.observability.metrics import AGENT_RUNS, RUN_DURATION_S
from talkative.paging import Cursor
from talkative.runs.models import Run, RunCommand, RunStep
from talkative.runs.planner import PlannedStep
from talkative.runs.reducer import (
    RunAction,
    RunState,
    RunStatus,
    StepStatus,
    SubagentState,
    is_terminal,
    reduce,
    status_event_type,
)
from talkative.runs.replies import summarize_outcome


@dataclass(frozen=True)
class CommandRecord:
    type: str
    payload: dict[str, Any]
    actor: str


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


async def open_run(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str,
    kind: str,
    text: str,
    parent_run_id: str | None = None,
    requested_by: str | None = None,
) -> Run:
    """A new run, pending until it is planned (`start`): no worker takes a run still being planned.
    `requested_by`: who asked (a token's subject); a child run inherits its parent's."""
    now = utcnow()
    if requested_by is None and parent_run_id is not None:
        parent = await session.get(Run, parent_run_id)
        requested_by = None if parent is None else parent.requested_by
    run_id = new_id("run")
    # A moment's span marks the run's opening in the caller's trace (a new trace for a heartbeat);
    # the steps, worked later and maybe elsewhere, are its children.
    with tracing.span(
        f"run.open {kind}", attributes={"talkative.run_id": run_id, "talkative.run_kind": kind}
    ):
        trace_parent = tracing.traceparent()
    run = Run(
        id=run_id,
        trace_parent=trace_parent,
        tenant_id=tenant_id,
        agent_id=agent_id,
        parent_run_id=parent_run_id,
        requested_by=requested_by,
        kind=kind,
        input=text,
        status=RunStatus.PENDING,
        subagent_state=SubagentState.IDLE,
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    return run


def start(run: Run) -> None:
    """A planned run starts: the worker may take it. Its start is recorded by the caller's
    MESSAGE_RECEIVED (or HEARTBEAT_TICK) event rather than one of its own."""
    state = reduce(RunState(RunStatus(run.status), SubagentState(run.subagent_state)), RunAction.START)
    run.status, run.subagent_state, run.updated_at = state.status, state.subagent_state, utcnow()


async def transition(
    session: AsyncSession,
    run: Run,
    action: RunAction,
    *,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Applies `action` through the reducer (409 if impossible) and records the change as an event,
    which it returns."""
    before = run.status
    state = reduce(RunState(RunStatus(run.status), SubagentState(run.subagent_state)), action)
    run.status, run.subagent_state = state.status, state.subagent_state
    run.updated_at = utcnow()
    if action in (RunAction.FAIL, RunAction.ERROR_COMPACTED) and reason:
        run.last_error = reason
    if is_terminal(state.status):
        run.finished_at = run.updated_at
        if planned(run):  # a run still being planned keeps its planner's lease: see `planned`
            run.lease_owner, run.lease_until = None, None
        AGENT_RUNS.labels(run.kind, run.status).inc()
        RUN_DURATION_S.labels(run.kind, run.status).observe(
            (run.finished_at - run.created_at).total_seconds()
        )
    change = NewEvent(
        type=status_event_type(action),
        tenant_id=run.tenant_id,
        agent_id=run.agent_id,
        run_id=run.id,
        message=f"run {before} → {run.status}" + (f": {reason}" if reason else ""),
        payload={
            "from": before,
            "to": run.status,
            "action": str(action),
            "reason": reason,
            **(payload or {}),
        },
    )
    (stored,) = await events.append(session, [change])
    return stored


def planned(run: Run) -> bool:
    """Whether the run's plan is recorded (planning always stores the interpretation in `result`).

    Until then a run opened before a remote model call is held by its planner's lease, even once it
    ended (cancelled meanwhile): the planner still records the call, and a lease that expires on a
    run never planned is how a planner that stopped during the call is found."""
    return run.result is not None


async def finish(session: AsyncSession, run: Run, steps: list[RunStep]) -> None:
    """Ends a run whose steps all ended: failed if any failed (with their errors), rejected if a
    human rejected any (so it never reads as completed), else completed."""
    failed = [s for s in steps if s.status == StepStatus.FAILED]
    rejected = [s for s in steps if s.status == StepStatus.REJECTED]
    run.reply = summarize_outcome(run, steps)
    if failed:
        reason = "; ".join(str((s.result or {}).get("error") or s.name) for s in failed)
        await transition(session, run, RunAction.FAIL, reason=reason)
    elif rejected:
        reason = "rejected by a human: " + ", ".join(s.name for s in rejected)
        await transition(session, run, RunAction.REJECT, reason=reason)
    else:
        await transition(session, run, RunAction.COMPLETE)


async def get(
    session: AsyncSession, run_id: str, *, tenant_id: str | None = None, for_update: bool = False
) -> Run:
    query = select(Run).where(Run.id == run_id)
    run = await session.scalar(query.with_for_update() if for_update else query)
    if run is None or (tenant_id is not None and run.tenant_id != tenant_id):
        raise NotFound(f"run '{run_id}' not found", code="RUN_NOT_FOUND")
    return run


async def list_runs(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    agent_id: str | None,
    status: str | None,
    limit: int,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: Cursor | None = None,
) -> list[Run]:
    """The newest `limit` runs that match (created in [since, until), older than `before`),
    newest last."""
    query = select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Run.tenant_id == tenant_id)
    if agent_id is not None:
        query = query.where(Run.agent_id == agent_id)
    if status is not None:
        query = query.where(Run.status == status)
    if kind is not None:
        query = query.where(Run.kind == kind)
    if since is not None:
        query = query.where(Run.created_at >= since)
    if until is not None:
        query = query.where(Run.created_at < until)
    if before is not None:
        query = query.where(
            or_(Run.created_at < before.at, and_(Run.created_at == before.at, Run.id < before.id))
        )
    return await newest_last(session, query)


def cursor_of(run: Run) -> Cursor:
    return Cursor(0, run.created_at, run.id)


async def runs_page(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    agent_id: str | None,
    status: str | None,
    kind: str | None,
    since: datetime | None,
    until: datetime | None,
    before: str | None,
    limit: int,
) -> tuple[list[Run], str | None]:
    """A page of `list_runs` (newest last) and the cursor of the older page, None when none is."""
    if since is not None and until is not None and since >= until:
        raise InvalidInput("'since' must be before 'until'")
    rows = await list_runs(
        session,
        tenant_id=tenant_id,
        agent_id=agent_id,
        status=status,
        kind=kind,
        since=since,
        until=until,
        before=None if before is None else paging.decode(before),
        limit=limit + 1,
    )
    return paging.page_of(rows, limit, cursor_of, newest_last=True)


async def add_steps(session: AsyncSession, run: Run, steps: Sequence[PlannedStep]) -> list[RunStep]:
    """Appends planned steps after the run's existing ones."""
    if not steps:
        return []
    existing = await session.scalar(select(func.max(RunStep.idx)).where(RunStep.run_id == run.id))
    start = 0 if existing is None else existing + 1
    rows = [
        RunStep(
            run_id=run.id,
            idx=start + i,
            kind=step.kind,
            name=step.name,
            spec=step.spec.dump(),
            node_id=step.node_id,
            status=StepStatus.PENDING,
            attempts=0,
        )
        for i, step in enumerate(steps)
    ]
    session.add_all(rows)
    return rows


async def steps_of(session: AsyncSession, run_id: str) -> list[RunStep]:
    query = select(RunStep).where(RunStep.run_id == run_id).order_by(RunStep.idx)
    return list((await session.scalars(query)).all())


async def record_command(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str,
    run_id: str | None,
    type_: str,
    payload: dict[str, Any],
    actor: str,
) -> RunCommand:
    command = RunCommand(
        id=new_id("cmd"),
        tenant_id=tenant_id,
        agent_id=agent_id,
        run_id=run_id,
        type=type_,
        payload=payload,
        actor=actor,
    )
    session.add(command)
    await session.flush()
    return command


async def commands_of(session: AsyncSession, run_id: str) -> list[RunCommand]:
    query = (
        select(RunCommand).where(RunCommand.run_id == run_id).order_by(RunCommand.created_at, RunCommand.id)
    )
    return list((await session.scalars(query)).all())
