"""The critical loop and the other ways work starts: message, task, delegation, heartbeat.

Work that spans domains lives here. A flow opens a run and plans it (planning.py): the message, the
context, the interpretation (the model call, through the router), the workflow patch and the plan,
committed together; a remote model is called after the opening and its budget hold committed
(each a short transaction), and the plan is written by a third. A run with nothing to
execute ends right there; otherwise the flow wakes the worker, which runs the steps, and a caller
that wants the outcome waits for the run to finish or to stop at a human gate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents import service as agents
from talkative.agents.models import Agent
from talkative.db import db_now, utcnow
from talkative.events import service as events
from talkative.events.schemas import EventType
from talkative.llm_router import service as llm
from talkative.llm_router.providers.base import Completion, ProviderError
from talkative.orchestrator import leases, planning, trust
from talkative.orchestrator.steps.delegate import ChildRequest
from talkative.runs import planner, reads
from talkative.runs import service as runs
from talkative.runs.models import Run
from talkative.runs.reducer import TERMINAL, RunAction, RunKind, RunStatus
from talkative.runs.schemas import MessageReply
from talkative.runtime import Runtime
from talkative.skills import install
from talkative.workflows import service as workflows
from talkative.workflows.models import Workflow

# Where a caller stops waiting: the run ended, or waits for a human or a resume.
SETTLED = frozenset({*TERMINAL, RunStatus.WAITING_APPROVAL, RunStatus.PAUSED})
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Started:
    run_id: str
    has_steps: bool  # False: the run ended where it was planned
    command_id: str | None = None
    reply: MessageReply | None = None  # ... and then its reply, when it completed there


async def start_run(
    runtime: Runtime,
    *,
    tenant_scope: str | None,
    agent_id: str,
    text: str,
    kind: RunKind = RunKind.MESSAGE,
    parent_run_id: str | None = None,
    command: runs.CommandRecord | None = None,
    requested_by: str | None = None,
) -> Started:
    """Opens a run for `text` on a running agent, asks the model (through the router) and plans it.

    With the local model everything is one transaction. With a remote model the opening commits
    first, then a short transaction holds the call's cost against the budgets (the only place
    budget locks are taken), the call runs outside any transaction, and a last transaction records
    the usage and the plan. A call over budget is not sent: the run fails with BUDGET_EXCEEDED and
    the caller gets a 402. `command`, when a command asked for the run, is logged in the opening
    transaction. `requested_by`: the subject who asked (None for the system's own runs).
    """
    async with runtime.sessionmaker() as session, session.begin():
        agent, run, opening, workflow = await planning.open_run(
            runtime,
            session,
            tenant_scope=tenant_scope,
            agent_id=agent_id,
            text=text,
            kind=kind,
            parent_run_id=parent_run_id,
            command=command,
            requested_by=requested_by,
        )
        call = await llm.decide(
            session,
            providers=runtime.providers,
            message=text,
            prompt=opening.ctx.text,
            skills=[(s.manifest.name, s.manifest.description) for s in opening.skills],
        )
        if call.is_local:
            planned = await _record_and_plan(
                runtime, session, agent, run, opening, workflow, call, None, None, 0.0
            )
        else:  # until its plan is recorded the run is this flow's, by a lease it keeps renewing
            planner = leases.holder("plan")
            await leases.take(session, run, planner, leases.lease_of(runtime))
    if not call.is_local:
        planned = await _hold_call_and_plan(runtime, opening, call, planner)
    if planned.has_steps:
        runtime.worker.wake()
    return Started(opening.run_id, planned.has_steps, opening.command_id, planned.reply)


async def _hold_call_and_plan(
    runtime: Runtime, opening: planning.Opening, call: llm.Call, planner: str
) -> planning.Planned:
    """A remote call after the opening committed: hold its cost, call, then record and plan.

    The hold commits on its own, before the call, so its budget locks are never held across the
    opening (or the call). Opening first means a failed opening leaves no hold behind; a hold
    whose run then fails to record its call is released here. Meanwhile the run is this flow's by
    a lease it renews: if this process dies (or freezes past the lease), a worker fails the run
    and releases its hold, and the late record is fenced off (nothing of this call is written).
    """
    try:
        async with leases.kept(runtime, opening.run_id, planner, on_lost=lambda run: None):
            try:
                async with runtime.sessionmaker() as session, session.begin():
                    await llm.hold(
                        session,
                        call,
                        tenant_id=opening.tenant_id,
                        agent_id=opening.agent_id,
                        run_id=opening.run_id,
                    )
            except llm.BudgetExceeded as exc:
                async with runtime.sessionmaker() as session, session.begin():
                    run = await runs.get(session, opening.run_id, for_update=True)
                    await planning.refuse(session, run, opening, exc)
                    run.lease_owner, run.lease_until = None, None
                raise
            completion, error, latency = await llm.complete(runtime.providers, call)
        async with runtime.sessionmaker() as session, session.begin():
            run = await runs.get(session, opening.run_id, for_update=True)
            if run.lease_owner != planner:
                leases.refuse("plan", run.id, planner, leases.holding(run))
                return planning.Planned(has_steps=False)
            agent = await agents.get_agent(
                session=session, tenant_id=opening.tenant_id, agent_id=opening.agent_id
            )
            # The workflow before the ledger, as in a local call's opening (workflow, then its
            # rollup row): taken the other way round, this and a concurrent opening deadlock.
            workflow = await workflows.lock_agent_workflow(
                session, tenant_id=agent.tenant_id, agent_id=agent.id
            )
            planned = await _record_and_plan(
                runtime, session, agent, run, opening, workflow, call, completion, error, latency
            )
            run.lease_owner, run.lease_until = None, None  # planned: the worker may claim it
            return planned
    except llm.BudgetExceeded:
        raise  # nothing was held
    except BaseException as exc:
        # Shielded: a cancelled request must not leave the hold counting against the caps.
        await asyncio.shield(_release(runtime, opening.run_id, f"run not recorded: {type(exc).__name__}"))
        raise


async def _release(runtime: Runtime, run_id: str, reason: str) -> None:
    try:
        async with runtime.sessionmaker() as session, session.begin():
            await llm.release_run_reservations(session, run_id, reason=reason)
    except Exception:  # the database may be what failed: recovery releases it later
        _log.exception("run %s: its budget hold could not be released", run_id)


async def _record_and_plan(
    runtime: Runtime,
    session: AsyncSession,
    agent: Agent,
    run: Run,
    opening: planning.Opening,
    workflow: Workflow,
    call: llm.Call,
    completion: Completion | None,
    error: ProviderError | None,
    latency_ms: float,
) -> planning.Planned:
    """Records the call in the ledger (falling back to the local interpreter if it failed) and plans."""
    if completion is None:
        started = time.perf_counter()
        completion = await runtime.providers[llm.LOCAL].complete(call.request)
        latency_ms = latency_ms if error is not None else (time.perf_counter() - started) * 1000
    rows = await llm.record(
        session,
        call=call,
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
        run_id=run.id,
        completion=completion,
        error=error,
        latency_ms=latency_ms,
    )
    return await planning.plan(runtime, session, agent, run, opening, completion, rows, workflow)


async def start_child(runtime: Runtime, request: ChildRequest) -> str:
    """A delegate step's child run (wired into the delegate executor); returns its id."""
    started = await start_run(
        runtime,
        tenant_scope=request.tenant_id,
        agent_id=request.agent_id,
        text=request.text,
        kind=RunKind.DELEGATED,
        parent_run_id=request.parent_run_id,
    )
    return started.run_id


async def handle_message(
    runtime: Runtime,
    *,
    tenant_scope: str | None,
    agent_id: str,
    text: str,
    kind: RunKind = RunKind.MESSAGE,
    requested_by: str | None = None,
) -> MessageReply:
    """The critical loop: the run's reply once it settles (or as it is after `message_wait_s`)."""
    started = await start_run(
        runtime, tenant_scope=tenant_scope, agent_id=agent_id, text=text, kind=kind, requested_by=requested_by
    )
    if started.reply is not None:
        return started.reply
    if started.has_steps:
        return await wait_for_reply(runtime, started.run_id, runtime.settings.message_wait_s)
    async with runtime.sessionmaker() as session:  # it failed or was cancelled where it was planned
        return await reads.build_reply(session, started.run_id)


async def run_status(runtime: Runtime, run_id: str) -> str:
    async with runtime.sessionmaker() as session:
        return (await runs.get(session, run_id)).status


async def wait_settled(runtime: Runtime, run_id: str, wait_s: float) -> str:
    """Waits until the run finishes or stops at a gate (or `wait_s` passes); returns its status."""
    deadline = time.monotonic() + wait_s
    runtime.watch.track(run_id)  # a change before the first wait is kept, not missed
    try:
        while (status := await run_status(runtime, run_id)) not in SETTLED:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            # Woken at once by this process's worker; a run moved elsewhere is seen by the poll.
            await runtime.watch.changed(run_id, min(0.5, left))
        return status
    finally:
        runtime.watch.forget(run_id)


async def wait_for_reply(runtime: Runtime, run_id: str, wait_s: float) -> MessageReply:
    """The run's reply once it finishes or stops at a gate (or as it is after `wait_s`).

    Woken by this process's worker, it reads the reply at once (no separate status read first);
    otherwise it looks at the run's status every half second.
    """
    runtime.watch.track(run_id)  # the worker may finish the run before the first wait: keep its notice
    deadline = time.monotonic() + wait_s
    try:
        while True:
            left = deadline - time.monotonic()
            notified = left > 0 and await runtime.watch.changed(run_id, min(0.5, left))
            if not notified and left > 0 and await run_status(runtime, run_id) not in SETTLED:
                continue
            async with runtime.sessionmaker() as session:
                reply = await reads.build_reply(session, run_id)
            if reply.run_status in SETTLED or deadline <= time.monotonic():
                return reply
    finally:
        runtime.watch.forget(run_id)


async def run_heartbeat(runtime: Runtime, *, tenant_id: str, agent_id: str) -> str | None:
    """One scheduled heartbeat: a run with HEARTBEAT_TICK and one tool step per `RUN` line."""
    async with runtime.sessionmaker() as session, session.begin():
        agent = await planning.running_agent(session, tenant_id, agent_id)
        commands = install.read_heartbeat_commands(runtime.workspace(agent.workspace))
        skill_set = await planning.skills_of(runtime, session, agent)
        run = await runs.open_run(
            session, tenant_id=agent.tenant_id, agent_id=agent.id, kind=RunKind.HEARTBEAT, text=""
        )
        allowed, untrusted = trust.split_commands(commands, skill_set)
        refused = trust.refusals(skill_set, tasks=(), chosen=(), commands=untrusted)
        message = f"heartbeat: {len(commands)} command(s)"
        tick = planning.event(agent, run.id, EventType.HEARTBEAT_TICK, message, {"commands": commands})
        trail = [tick, *trust.events(refused, tenant_id=agent.tenant_id, agent_id=agent.id, run_id=run.id)]
        await events.append(session, trail)
        steps = planner.plan(
            ["heartbeat"],
            [],
            heartbeat_commands=allowed,
            sensitive_keywords=(),
            heartbeat_skills=[skill.manifest for skill in skill_set.trusted],
        )
        await runs.add_steps(session, run, trust.stamp(steps, skill_set))
        run.result = {"summary": "Heartbeat.", "heartbeat": True}
        agent.last_heartbeat_at = utcnow()
        agent.next_heartbeat_at = agents.schedule_next_heartbeat(agent, await db_now(session))
        runs.start(run)
        if not steps:
            notes = "".join(f" Not run: {trust.explain(name, state)}." for name, state, _ in refused)
            run.reply = f"Heartbeat: nothing to run.{notes}"
            await runs.transition(session, run, RunAction.COMPLETE)
        run_id = run.id
    if steps:
        runtime.worker.wake()
    return run_id
