"""Runs and their steps: opened for every piece of agent work, changed only through the reducer."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import newest_last, utcnow
from talkative.errors import NotFound
from talkative.events import service as events
from talkative.events.schemas import NewEvent
from talkative.observability.metrics import AGENT_RUNS, RUN_DURATION_S
from talkative.orchestrator.models import Run, RunCommand, RunStep
from talkative.orchestrator.reducer import (
    RunAction,
    RunState,
    RunStatus,
    is_terminal,
    reduce,
    status_event_type,
)


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
) -> Run:
    """A new run, already started (its opening is the MESSAGE_RECEIVED-style event of the caller).

    Not flushed: a run that ends in the transaction that opened it is then one INSERT of its final
    state at commit (or at the next ORM query's autoflush), not an INSERT and an UPDATE."""
    now = utcnow()
    state = reduce(RunState(RunStatus.PENDING, "idle"), RunAction.START)  # type: ignore[arg-type]
    run = Run(
        id=new_id("run"),
        tenant_id=tenant_id,
        agent_id=agent_id,
        parent_run_id=parent_run_id,
        kind=kind,
        input=text,
        status=str(state.status),
        subagent_state=str(state.subagent_state),
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    return run


async def transition(
    session: AsyncSession,
    run: Run,
    action: RunAction,
    *,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
    emit: bool = True,
    into: list[NewEvent] | None = None,
) -> Run:
    """Applies `action` through the reducer (409 if impossible) and records the change as an event.

    With `into`, the event is added to that list for the caller to store with its own events.
    """
    before = run.status
    state = reduce(RunState(RunStatus(run.status), run.subagent_state), action)  # type: ignore[arg-type]
    run.status, run.subagent_state = str(state.status), str(state.subagent_state)
    run.updated_at = utcnow()
    if action in (RunAction.FAIL, RunAction.ERROR_COMPACTED) and reason:
        run.last_error = reason
    if is_terminal(state.status):
        run.finished_at = run.updated_at
        run.lease_owner, run.lease_until = None, None
        AGENT_RUNS.labels(run.kind, run.status).inc()
        RUN_DURATION_S.labels(run.kind, run.status).observe(
            (run.finished_at - run.created_at).total_seconds()
        )
    if emit:
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
        if into is not None:
            into.append(change)
        else:
            await events.append(session, [change])
    return run


# Built once: a statement built per call costs more than running it (construction, cache key).
_RUN = select(Run).where(Run.id == bindparam("run_id"))
_RUN_FOR_UPDATE = _RUN.with_for_update()
_STEPS = select(RunStep).where(RunStep.run_id == bindparam("run_id")).order_by(RunStep.idx)


async def get(
    session: AsyncSession, run_id: str, *, tenant_id: str | None = None, for_update: bool = False
) -> Run:
    run = await session.scalar(_RUN_FOR_UPDATE if for_update else _RUN, {"run_id": run_id})
    if run is None or (tenant_id is not None and run.tenant_id != tenant_id):
        raise NotFound(f"run '{run_id}' not found", code="RUN_NOT_FOUND")
    return run


async def list_runs(
    session: AsyncSession, *, tenant_id: str | None, agent_id: str | None, status: str | None, limit: int
) -> list[Run]:
    query = select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Run.tenant_id == tenant_id)
    if agent_id is not None:
        query = query.where(Run.agent_id == agent_id)
    if status is not None:
        query = query.where(Run.status == status)
    return await newest_last(session, query)


async def add_steps(
    session: AsyncSession, run: Run, steps: Sequence[tuple[str, str, dict[str, Any]]]
) -> list[RunStep]:
    """Appends planned steps (kind, name, spec) after the run's existing ones."""
    if not steps:
        return []
    existing = None
    if not inspect(run).pending:  # a run not yet written has no steps either
        existing = await session.scalar(
            select(RunStep.idx).where(RunStep.run_id == run.id).order_by(RunStep.idx.desc())
        )
    start = 0 if existing is None else existing + 1
    rows = [
        RunStep(run_id=run.id, idx=start + i, kind=kind, name=name, spec=spec, status="pending", attempts=0)
        for i, (kind, name, spec) in enumerate(steps)
    ]
    session.add_all(rows)  # written with the run at the next flush (the unit of work orders them)
    return rows


async def steps_of(session: AsyncSession, run_id: str) -> list[RunStep]:
    return list((await session.scalars(_STEPS, {"run_id": run_id})).all())


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
