"""Pause, resume, cancel, approval decisions and external events: changes to runs from outside."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approvals import service as approvals
from talkative.approvals.models import SYSTEM, Approval, ApprovalStatus
from talkative.auth.principal import Role
from talkative.db import db_now, utcnow
from talkative.errors import Conflict, NotFound
from talkative.events import service as events
from talkative.events.schemas import NewEvent
from talkative.orchestrator.steps.approval import reject_guarded
from talkative.runs import service as runs
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import RunAction, RunStatus, StepStatus
from talkative.runtime import Runtime

log = logging.getLogger("talkative.approvals")
CONTROL_ACTIONS = {"pause": RunAction.PAUSE, "resume": RunAction.RESUME, "cancel": RunAction.CANCEL}


async def control(runtime: Runtime, *, run_id: str, tenant_scope: str | None, action: str, actor: str) -> Run:
    """Applies pause/resume/cancel (409 when impossible); cancel also kills a running tool."""
    async with runtime.sessionmaker() as session, session.begin():
        run = await runs.get(session, run_id, tenant_id=tenant_scope, for_update=True)
        await runs.record_command(
            session,
            tenant_id=run.tenant_id,
            agent_id=run.agent_id,
            run_id=run.id,
            type_=action,
            payload={},
            actor=actor,
        )
        await runs.transition(session, run, CONTROL_ACTIONS[action], payload={"by": actor})
        if action == "cancel":
            await _close_open_work(session, run, "run cancelled", by=actor)
    if action == "cancel":
        runtime.watch.cancel(run_id)
    runtime.watch.notify(run_id)
    runtime.worker.wake()
    return run


async def _close_open_work(session: AsyncSession, run: Run, why: str, *, by: str = SYSTEM) -> None:
    """A run that ended early leaves no step pending and no approval waiting for a decision; the
    approvals are recorded as ended by `by`, who ended the run (the system when nobody did)."""
    for step in await runs.steps_of(session, run.id):
        if step.status in (StepStatus.PENDING, StepStatus.WAITING):
            step.status, step.finished_at = StepStatus.CANCELLED, utcnow()
    for approval in await approvals.pending_for_run(session, run.id):
        approval.status, approval.decided_at, approval.note = ApprovalStatus.CANCELLED, utcnow(), why
        approval.decided_by = by


async def decide(
    runtime: Runtime,
    *,
    approval_id: str,
    tenant_scope: str | None,
    decision: str,
    decider: str,
    note: str | None,
    role: Role | None = None,
) -> Approval:
    """Approved: the run resumes at the gated step. Rejected: the gated steps are recorded rejected.

    `decider` and `role` are the deciding principal's (the token's subject and role, whichever
    channel carried it). Under the tenant's approval policy a decision is a vote, and the approval
    is decided once enough approvers voted (approvals/service.py)."""
    async with runtime.sessionmaker() as session, session.begin():
        approval = await approvals.get(session, approval_id, tenant_id=tenant_scope, for_update=True)
        now = await db_now(session)
        decided = await approvals.decide(
            session, approval, decision=decision, decider=decider, note=note, role=role, now=now
        )
        if decided:
            await _settle_gate(session, approval, approved=decision == "approved", strict=True)
    if decided:
        runtime.watch.notify(approval.run_id or "")
        runtime.worker.wake()
    return approval


async def _settle_gate(session: AsyncSession, approval: Approval, *, approved: bool, strict: bool) -> None:
    """The gated run after its approval ended: resumed at the next step, or, rejected (by a human
    or by a deadline, the same way), its guarded steps rejected and the run going on to its end.
    `strict`: a run not waiting for this approval is a 409 (a human decided); otherwise (a
    deadline) the approval ends on its own and the run is left as it is."""
    if approval.run_id is None or approval.step_idx is None:
        return
    run = await runs.get(session, approval.run_id, for_update=True)
    gate = await session.get(RunStep, (run.id, approval.step_idx))
    if run.status != RunStatus.WAITING_APPROVAL or gate is None or gate.status != StepStatus.WAITING:
        if strict:
            raise Conflict(
                f"run '{run.id}' is {run.status}, not waiting for this approval", code="RUN_NOT_WAITING"
            )
        return
    gate.status = StepStatus.DONE if approved else StepStatus.REJECTED
    gate.finished_at = utcnow()
    if not approved:
        await reject_guarded(session, run, gate)
    decision = ApprovalStatus.APPROVED if approved else ApprovalStatus.REJECTED
    await runs.transition(session, run, RunAction.APPROVAL_DECIDED, payload={"decision": str(decision)})


async def sweep_approvals(runtime: Runtime, *, limit: int = 100) -> int:
    """One pass of the deadline loop: reminders due are sent once per stage, approvals past their
    stage's deadline are escalated or expire (their step rejected as a human rejection would;
    a deadline never approves). Times are the database's. Each approval is handled in a
    transaction of its own, locked (PostgreSQL: SKIP LOCKED) and checked again, so two processes
    never both act on one. Returns how many approvals it changed."""
    async with runtime.sessionmaker() as session:
        due = await approvals.due_ids(session, await db_now(session), limit)
    acted = 0
    for approval_id in due:
        if runtime.stopping.is_set():
            break
        try:
            acted += await _sweep_one(runtime, approval_id)
        except Exception:  # one approval that cannot be handled does not hold back the others
            log.exception("approval %s: its deadline or reminder could not be handled", approval_id)
    return acted


async def _sweep_one(runtime: Runtime, approval_id: str) -> bool:
    ended = False
    async with runtime.sessionmaker() as session, session.begin():
        approval = await approvals.lock_pending(session, approval_id)
        if approval is None:
            return False
        now = await db_now(session)
        if approval.deadline_at is not None and approval.deadline_at <= now:
            await approvals.on_deadline(session, approval, now)
            if approval.status == ApprovalStatus.EXPIRED:
                await _settle_gate(session, approval, approved=False, strict=False)
                ended = True
        elif (
            approval.remind_at is not None
            and approval.remind_at <= now
            and (approval.reminded_stage is None or approval.reminded_stage < approval.stage)
        ):
            await approvals.remind(session, approval, now)
        else:
            return False  # decided, escalated or reminded by someone else meanwhile
    if ended:
        runtime.watch.notify(approval.run_id or "")
        runtime.worker.wake()
    return True


async def approval_deadline_loop(runtime: Runtime) -> None:
    """The leader's loop over approvals' deadlines and reminders (`sweep_approvals` each pass)."""
    while await runtime.pause(runtime.settings.approval_deadline_poll_s):
        try:
            await sweep_approvals(runtime)
        except Exception:  # the loop must outlive any one failure, and say what it was
            log.exception("approval deadline pass failed")


async def external_event(
    runtime: Runtime,
    *,
    run_id: str,
    tenant_scope: str | None,
    agent_id: str,
    type_: str,
    message: str,
    payload: dict[str, Any],
) -> Run:
    """An event reported by an external worker; `error_compacted` fails the run."""
    async with runtime.sessionmaker() as session, session.begin():
        run = await runs.get(session, run_id, tenant_id=tenant_scope, for_update=True)
        if run.agent_id != agent_id:
            raise NotFound(f"run '{run_id}' not found for agent '{agent_id}'", code="RUN_NOT_FOUND")
        await events.append(
            session,
            [
                NewEvent(
                    type=f"EXTERNAL_{type_.upper()}",
                    tenant_id=run.tenant_id,
                    agent_id=run.agent_id,
                    run_id=run.id,
                    message=message or type_,
                    payload={"type": type_, **payload},
                )
            ],
        )
        if type_ == "error_compacted":
            await runs.transition(
                session, run, RunAction.ERROR_COMPACTED, reason=message or "error reported externally"
            )
            await _close_open_work(session, run, "run failed")
    if type_ == "error_compacted":
        runtime.watch.cancel(run_id)
    runtime.watch.notify(run_id)
    return run
