"""Pause, resume, cancel, approval decisions and external events: changes to runs from outside."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approvals import service as approvals
from talkative.approvals.models import SYSTEM, Approval, ApprovalStatus
from talkative.db import utcnow
from talkative.errors import Conflict, NotFound
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.runs import service as runs
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import RunAction, RunStatus, StepStatus
from talkative.runs.specs import ApprovalSpec
from talkative.runtime import Runtime

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
) -> Approval:
    """Approved: the run resumes at the gated step. Rejected: the gated steps are recorded rejected."""
    async with runtime.sessionmaker() as session, session.begin():
        approval = await approvals.get(session, approval_id, tenant_id=tenant_scope, for_update=True)
        await approvals.decide(session, approval, decision=decision, decider=decider, note=note)
        if approval.run_id is not None and approval.step_idx is not None:
            run = await runs.get(session, approval.run_id, for_update=True)
            gate = await session.get(RunStep, (run.id, approval.step_idx))
            if run.status != RunStatus.WAITING_APPROVAL or gate is None or gate.status != StepStatus.WAITING:
                raise Conflict(
                    f"run '{run.id}' is {run.status}, not waiting for this approval", code="RUN_NOT_WAITING"
                )
            approved = decision == "approved"
            gate.status = StepStatus.DONE if approved else StepStatus.REJECTED
            gate.finished_at = utcnow()
            if decision == "rejected":
                await _reject_guarded(session, run, gate)
            await runs.transition(session, run, RunAction.APPROVAL_DECIDED, payload={"decision": decision})
    runtime.watch.notify(approval.run_id or "")
    runtime.worker.wake()
    return approval


async def _reject_guarded(session: AsyncSession, run: Run, gate: RunStep) -> None:
    spec = gate.details
    assert isinstance(spec, ApprovalSpec)
    for idx in spec.guards:
        step = await session.get(RunStep, (run.id, idx))
        if step is not None and step.status == StepStatus.PENDING:
            step.status, step.finished_at = StepStatus.REJECTED, utcnow()
            step.result = {"rejected_by_approval": True}
            await events.append(
                session,
                [
                    NewEvent(
                        type=EventType.STEP_REJECTED,
                        tenant_id=run.tenant_id,
                        agent_id=run.agent_id,
                        run_id=run.id,
                        message=f"{step.name}: rejected, not executed",
                        payload={"step": step.idx, "name": step.name},
                    )
                ],
            )


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
