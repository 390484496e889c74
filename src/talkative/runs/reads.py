"""Runs as the API shows them: status, plan (steps), and history (commands and events in order)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approvals import service as approvals
from talkative.approvals.models import SYSTEM, Approval, ApprovalStatus, ApprovalVote
from talkative.approvals.schemas import (
    ApprovalGate,
    ApprovalRead,
    ApprovalRun,
    Approvers,
    GuardedStep,
    VoteRead,
)
from talkative.events import service as events
from talkative.input.strict import renderable
from talkative.runs import service as runs
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import RunStatus, StepStatus, allowed_actions
from talkative.runs.replies import reply_from
from talkative.runs.schemas import MessageReply, RunLink, RunRead, RunRecord, StepRead
from talkative.runs.specs import ApprovalSpec, DelegateSpec, InvalidSpec, TaskSpec, ToolSpec

log = logging.getLogger("talkative.runs")


def run_read(run: Run) -> RunRead:
    return RunRead(
        run_id=run.id,
        tenant_id=run.tenant_id,
        agent_id=run.agent_id,
        kind=run.kind,
        input=run.input,
        status=run.status,
        subagent_state=run.subagent_state,
        parent_run_id=run.parent_run_id,
        last_error=run.last_error,
        reply=run.reply,
        created_at=run.created_at,
        updated_at=run.updated_at,
        finished_at=run.finished_at,
        allowed_actions=sorted(str(a) for a in allowed_actions(RunStatus(run.status))),
    )


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def _link(run: Run) -> RunLink:
    return RunLink(
        run_id=run.id,
        agent_id=run.agent_id,
        kind=run.kind,
        status=run.status,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


def _step_read(step: RunStep) -> StepRead:
    error = (step.result or {}).get("error") if step.status == StepStatus.FAILED else None
    return StepRead(
        idx=step.idx,
        kind=step.kind,
        name=step.name,
        status=step.status,
        spec=step.spec,
        result=step.result,
        node_id=step.node_id,
        attempts=step.attempts,
        started_at=step.started_at,
        finished_at=step.finished_at,
        duration_s=_seconds(step.started_at, step.finished_at),
        error=None if error is None else str(error),
    )


async def run_detail(session: AsyncSession, run: Run) -> RunRead:
    """Everything a run's page shows: plan, timings, history, approvals, parent and children."""
    read = run_read(run)
    steps = [
        s for s in await runs.steps_of(session, run.id) if _renders(run, "step", s.idx, s.spec, s.result)
    ]
    read.plan = [_step_read(s) for s in steps]
    read.started_at = min((s.started_at for s in steps if s.started_at is not None), default=None)
    read.duration_s = _seconds(run.created_at, run.finished_at)
    by_idx = {s.idx: s for s in steps}
    of_run = await approvals.for_run(session, run.id)
    votes = await approvals.votes_of(session, [a.id for a in of_run])
    read.approvals = [approval_read(a, run, by_idx, votes.get(a.id, ())) for a in of_run]
    history = [
        RunRecord(
            type="command", name=c.type, at=c.created_at, payload={**c.payload, "actor": c.actor}, id=c.id
        )
        for c in await runs.commands_of(session, run.id)
        if _renders(run, "command", c.id, c.payload)
    ] + [
        RunRecord(type="event", name=e.type, at=e.timestamp, payload=e.payload, id=str(e.id))
        for e in await events.for_run(session, run_id=run.id)
    ]
    read.steps = sorted(history, key=lambda r: r.at)
    mine = (Run.tenant_id == run.tenant_id,)
    children = await session.scalars(
        select(Run).where(Run.parent_run_id == run.id, *mine).order_by(Run.created_at, Run.id)
    )
    read.child_runs = [_link(c) for c in children]
    read.children = [c.run_id for c in read.child_runs]
    if run.parent_run_id is not None:
        parent = await session.scalar(select(Run).where(Run.id == run.parent_run_id, *mine))
        read.parent = None if parent is None else _link(parent)
    return read


def approval_read(
    approval: Approval,
    run: Run | None = None,
    steps: Mapping[int, RunStep] | None = None,
    votes: Sequence[ApprovalVote] = (),
) -> ApprovalRead:
    """An approval with its run, gate and votes when given (`steps`: the run's steps by index)."""
    ended = approval.status != ApprovalStatus.PENDING
    return ApprovalRead(
        id=approval.id,
        tenant_id=approval.tenant_id,
        agent_id=approval.agent_id,
        run_id=approval.run_id,
        step=approval.step_idx,
        reason=approval.reason,
        status=approval.status,
        requested_at=approval.requested_at,
        decided_at=approval.decided_at,
        # Rows cancelled before the actor was recorded name nobody: the system ended them.
        decided_by=approval.decided_by or (SYSTEM if ended else None),
        note=approval.note,
        requested_by=approval.requested_by,
        policy=approval.approvers is not None,
        required=approval.required,
        stage=approval.stage,
        deadline_at=approval.deadline_at,
        approvers=Approvers(**approvals.approvers_of(approval)),
        votes=[
            VoteRead(subject=v.subject, role=v.role, decision=v.decision, stage=v.stage, note=v.note, at=v.at)
            for v in votes
        ],
        run=None
        if run is None
        else ApprovalRun(
            run_id=run.id, agent_id=run.agent_id, kind=run.kind, status=run.status, input=run.input
        ),
        gate=_gate(approval, steps or {}),
    )


def _gate(approval: Approval, steps: Mapping[int, RunStep]) -> ApprovalGate | None:
    gate = None if approval.step_idx is None else steps.get(approval.step_idx)
    try:
        spec = None if gate is None else gate.details
    except InvalidSpec:
        log.warning("approval %s: its step's spec cannot be read", approval.id)
        return None
    if gate is None or not isinstance(spec, ApprovalSpec):
        return None
    guarded = [steps[i] for i in spec.guards if i in steps]
    return ApprovalGate(
        idx=gate.idx,
        name=gate.name,
        task=spec.task,
        status=gate.status,
        guards=[_guarded(s) for s in guarded],
    )


def _guarded(step: RunStep) -> GuardedStep:
    read = GuardedStep(idx=step.idx, kind=step.kind, name=step.name, status=step.status)
    try:
        spec = step.details
    except InvalidSpec:
        return read
    match spec:
        case ToolSpec(skill=skill, command=command):
            read.skill, read.command = skill, command
        case TaskSpec(task=task):
            read.task = task
        case DelegateSpec(target_agent_id=target):
            read.target_agent_id = target
    return read


async def approval_reads(session: AsyncSession, rows: Sequence[Approval]) -> list[ApprovalRead]:
    """Approvals with their runs, gates and votes, read in three statements for the whole page."""
    run_ids = {a.run_id for a in rows if a.run_id is not None}
    found: dict[str, Run] = {}
    steps: dict[str, dict[int, RunStep]] = {}
    if run_ids:
        found = {r.id: r for r in await session.scalars(select(Run).where(Run.id.in_(run_ids)))}
        for step in await session.scalars(select(RunStep).where(RunStep.run_id.in_(run_ids))):
            steps.setdefault(step.run_id, {})[step.idx] = step
    votes = await approvals.votes_of(session, [a.id for a in rows])
    return [
        approval_read(a, found.get(a.run_id or ""), steps.get(a.run_id or ""), votes.get(a.id, ()))
        for a in rows
    ]


def _renders(run: Run, what: str, key: object, *documents: object) -> bool:
    """A stored document that cannot be rendered is left out of the run's detail (and logged), so
    one bad row never makes the whole run unreadable. Events are filtered by their store."""
    if all(renderable(doc) for doc in documents):
        return True
    log.warning("run %s: %s %s skipped: it cannot be rendered as JSON", run.id, what, key)
    return False


async def build_reply(session: AsyncSession, run_id: str) -> MessageReply:
    run = await runs.get(session, run_id)
    steps = await runs.steps_of(session, run_id)
    trail = await events.for_run(session, run_id=run_id)
    return reply_from(run, steps, trail)
