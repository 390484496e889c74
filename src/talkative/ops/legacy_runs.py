"""Legacy import of runs, commands, events, approvals and channel records."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approvals.models import Approval
from talkative.channels.models import ClientMessage, InternalAction
from talkative.events.models import EventRow
from talkative.ops.legacy_agents import CHUNK, Job, agent_tenants, existing
from talkative.ops.legacy_read import (
    DEFAULT_TENANT,
    IMPORT_ACTOR,
    LegacyAgentEvent,
    LegacyApproval,
    LegacyClientMessage,
    LegacyCommand,
    LegacyInternalAction,
    LegacyOrchestratorEvent,
    LegacyRun,
    LegacyStep,
    check,
    read_document,
    read_jsonl,
)
from talkative.runs.models import Run, RunCommand
from talkative.runs.reducer import TERMINAL, RunKind, RunStatus, SubagentState


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_R = TypeVar("_R", bound=_HasId)

_SUBAGENT_FOR = {
    RunStatus.PENDING: SubagentState.IDLE,
    RunStatus.RUNNING: SubagentState.RUNNING,
    RunStatus.PAUSED: SubagentState.PAUSED,
    RunStatus.WAITING_APPROVAL: SubagentState.PAUSED,
    RunStatus.CANCELLED: SubagentState.STOPPED,
    RunStatus.FAILED: SubagentState.ERROR,
    RunStatus.COMPLETED: SubagentState.IDLE,
    RunStatus.REJECTED: SubagentState.IDLE,
}
_STATUSES = {str(s) for s in RunStatus}
_SUBAGENT_STATES = {str(s) for s in SubagentState}

CommandKey = tuple[str | None, str, datetime]  # (run_id, type, created_at)
EventKey = tuple[str | None, str, datetime, str]  # (agent_id, type, created_at, message)


async def _command_keys(session: AsyncSession, run_ids: set[str]) -> set[CommandKey]:
    keys: set[CommandKey] = set()
    wanted = list(run_ids)
    for start in range(0, len(wanted), CHUNK):
        query = select(RunCommand.run_id, RunCommand.type, RunCommand.created_at).where(
            RunCommand.run_id.in_(wanted[start : start + CHUNK])
        )
        keys.update((r.run_id, r.type, r.created_at) for r in (await session.execute(query)).all())
    return keys


async def import_runs(job: Job, session: AsyncSession) -> None:
    """`orchestrator/runs.json` -> runs (by run_id); their `command` steps -> run commands."""
    report = job.report
    path = job.source / "orchestrator" / "runs.json"
    records = read_document(path, "runs", LegacyRun, "runs", report)
    if records is None:
        return
    runs, steps = report.kind("runs"), report.kind("run_steps")
    steps.present = True
    steps.note = "command steps only (event steps come from the events files)"
    present = await existing(session, Run.id, (r.run_id for _, r in records))
    parsed = []
    for where, rec in records:
        found = [
            check(LegacyStep, raw, f"{where}.steps[{i}]", "run_steps", report)
            for i, raw in enumerate(rec.steps)
        ]
        parsed.append((where, rec, [s for s in found if s is not None and s.type == "command"]))
    command_ids = await existing(session, RunCommand.id, (s.id for _, _, ss in parsed for s in ss))
    command_keys = await _command_keys(session, {rec.run_id for _, rec, _ in parsed})
    for where, rec, commands in parsed:
        if rec.run_id in present:
            runs.skipped += 1
        else:
            session.add(_run(rec))
            present.add(rec.run_id)
            runs.imported += 1
        for step in commands:
            key = (rec.run_id, step.name, step.at)
            if len(step.name) > 32:
                report.malformed("run_steps", f"{where} step {step.id}", "command name longer than 32")
            elif step.id in command_ids or key in command_keys:
                steps.skipped += 1
            else:
                session.add(_command(step.id, rec, step.name, step.payload, step.at))
                command_ids.add(step.id)
                command_keys.add(key)
                steps.imported += 1
    await session.flush()


def _run(rec: LegacyRun) -> Run:
    updated = rec.updated_at or rec.created_at
    last_error = rec.last_error
    if rec.status in _STATUSES:
        status = RunStatus(rec.status)
        subagent = rec.subagent_state if rec.subagent_state in _SUBAGENT_STATES else None
    else:
        status, subagent = RunStatus.FAILED, None
        last_error = f"imported with unknown status {rec.status}" + (f"; {last_error}" if last_error else "")
    return Run(
        id=rec.run_id,
        tenant_id=rec.tenant,
        agent_id=rec.agent_id,
        parent_run_id=None,
        kind=RunKind.LEGACY,
        input="",
        status=str(status),
        subagent_state=subagent or str(_SUBAGENT_FOR[status]),
        last_error=last_error,
        created_at=rec.created_at,
        updated_at=updated,
        finished_at=updated if status in TERMINAL else None,
    )


def _command(
    command_id: str, rec: LegacyRun | LegacyCommand, kind: str, payload: dict[str, Any] | None, at: datetime
) -> RunCommand:
    return RunCommand(
        id=command_id,
        tenant_id=rec.tenant,
        agent_id=rec.agent_id,
        run_id=rec.run_id,
        type=kind,
        payload=payload or {},
        actor=IMPORT_ACTOR,
        created_at=at,
    )


async def import_commands(job: Job, session: AsyncSession) -> None:
    """`orchestrator/commands.jsonl` -> run commands, by id or (run_id, type, created_at)."""
    path = job.source / "orchestrator" / "commands.jsonl"
    records = read_jsonl(path, LegacyCommand, "orchestrator_commands", job.report)
    counts = job.report.kind("orchestrator_commands")
    ids = await existing(session, RunCommand.id, (r.id for _, r in records))
    keys = await _command_keys(session, {r.run_id for _, r in records if r.run_id is not None})
    for _, rec in records:
        key = (rec.run_id, rec.type, rec.created_at)
        if rec.id in ids or key in keys:
            counts.skipped += 1
            continue
        session.add(_command(rec.id, rec, rec.type, rec.payload, rec.created_at))
        ids.add(rec.id)
        keys.add(key)
        counts.imported += 1
    await session.flush()


async def _insert_events(session: AsyncSession, kind: str, rows: list[EventRow], job: Job) -> None:
    """Adds the rows not yet stored (by agent, type, time and message), oldest first."""
    counts = job.report.kind(kind)
    if not rows:
        return
    low, high = min(r.created_at for r in rows), max(r.created_at for r in rows)
    query = select(EventRow.agent_id, EventRow.type, EventRow.created_at, EventRow.message).where(
        EventRow.created_at >= low, EventRow.created_at <= high
    )
    seen: set[EventKey] = {
        (r.agent_id, r.type, r.created_at, r.message) for r in (await session.execute(query))
    }
    for row in sorted(rows, key=lambda r: r.created_at):
        key = (row.agent_id, row.type, row.created_at, row.message)
        if key in seen:
            counts.skipped += 1
            continue
        seen.add(key)
        session.add(row)  # stored directly: history is not re-published to live SSE clients
        counts.imported += 1
    await session.flush()


def _run_of(payload: dict[str, Any] | None) -> str | None:
    run_id = (payload or {}).get("run_id")
    return run_id if isinstance(run_id, str) and 0 < len(run_id) <= 64 else None


async def import_agent_events(job: Job, session: AsyncSession) -> None:
    """`agents/<agentId>/events.jsonl` -> events; `payload.run_id` links an event to its run."""
    tenants = await agent_tenants(session)
    rows: list[EventRow] = []
    job.report.kind("agent_events")
    for path in sorted((job.source / "agents").glob("*/events.jsonl")):
        folder = path.parent.name
        for _, rec in read_jsonl(path, LegacyAgentEvent, "agent_events", job.report):
            agent_id = rec.agent_id or rec.agentId or folder
            if len(agent_id) > 64:
                job.report.malformed("agent_events", str(path), "agent id longer than 64")
                continue
            rows.append(
                EventRow(
                    tenant_id=rec.tenant_id or tenants.get(agent_id, DEFAULT_TENANT),
                    agent_id=agent_id,
                    run_id=_run_of(rec.payload),
                    type=rec.type,
                    message=rec.message,
                    payload=rec.payload or {},
                    created_at=rec.timestamp,
                )
            )
    await _insert_events(session, "agent_events", rows, job)


async def import_orchestrator_events(job: Job, session: AsyncSession) -> None:
    path = job.source / "orchestrator" / "events.jsonl"
    records = read_jsonl(path, LegacyOrchestratorEvent, "orchestrator_events", job.report)
    tenants = await agent_tenants(session)
    rows = [
        EventRow(
            tenant_id=rec.tenant_id or tenants.get(rec.agent_id or "", DEFAULT_TENANT),
            agent_id=rec.agent_id,
            run_id=rec.run_id or _run_of(rec.payload),
            type=rec.type,
            message=rec.message,
            payload=rec.payload or {},
            created_at=rec.created_at,
        )
        for _, rec in records
    ]
    await _insert_events(session, "orchestrator_events", rows, job)


async def _import_by_id(
    job: Job,
    session: AsyncSession,
    kind: str,
    records: Sequence[tuple[Any, _R]],
    id_column: Any,
    build: Callable[[_R], Any],
) -> None:
    """Adds each record whose legacy id is not stored yet; the id is the idempotency key."""
    counts = job.report.kind(kind)
    ids = await existing(session, id_column, (r.id for _, r in records))
    for _, rec in records:
        if rec.id in ids:
            counts.skipped += 1
            continue
        session.add(build(rec))
        ids.add(rec.id)
        counts.imported += 1
    await session.flush()


async def import_approvals(job: Job, session: AsyncSession) -> None:
    path = job.source / "approvals" / "requests.json"
    records = read_document(path, "requests", LegacyApproval, "approvals", job.report)
    if records is None:
        return
    await _import_by_id(
        job,
        session,
        "approvals",
        records,
        Approval.id,
        lambda rec: Approval(
            id=rec.id,
            tenant_id=rec.tenant,
            agent_id=rec.agent_id,
            run_id=rec.run_id,
            step_idx=None,
            reason=rec.reason,
            status=rec.status,
            requested_at=rec.requested_at,
            decided_at=rec.decided_at,
            decided_by=rec.decided_by,
            note=rec.note,
        ),
    )


async def import_client_messages(job: Job, session: AsyncSession) -> None:
    path = job.source / "channels" / "client-messages.jsonl"
    records = read_jsonl(path, LegacyClientMessage, "client_messages", job.report)
    await _import_by_id(
        job,
        session,
        "client_messages",
        records,
        ClientMessage.id,
        lambda rec: ClientMessage(
            id=rec.id,
            tenant_id=rec.tenant,
            agent_id=rec.agent_id,
            client_id=rec.client_id,
            text=rec.text,
            run_id=rec.run_id,
            created_at=rec.created_at,
        ),
    )


async def import_internal_actions(job: Job, session: AsyncSession) -> None:
    path = job.source / "channels" / "internal-actions.jsonl"
    records = read_jsonl(path, LegacyInternalAction, "internal_actions", job.report)
    await _import_by_id(
        job,
        session,
        "internal_actions",
        records,
        InternalAction.id,
        lambda rec: InternalAction(
            id=rec.id,
            tenant_id=rec.tenant,
            agent_id=rec.agent_id,
            operator_id=rec.operator_id,
            action=rec.action,
            payload=rec.payload or {},
            created_at=rec.created_at,
        ),
    )
