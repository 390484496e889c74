"""The critical loop (SPEC §2) and the other ways work starts: message, task, channel, heartbeat.

Work that spans domains lives here. Opening a run is one short transaction: MESSAGE_RECEIVED, the
context, the interpretation, the workflow patch, and the plan. A run with nothing to execute ends
right there; otherwise the worker executes its steps, and a caller that wants the outcome waits for
the run to finish or to stop at a human gate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents import service as agents
from talkative.agents.exceptions import AgentNotRunning
from talkative.agents.models import Agent
from talkative.db import utcnow
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.llm_router import service as llm
from talkative.llm_router.models import UsageRow
from talkative.llm_router.providers.base import Completion, ProviderError
from talkative.orchestrator import context as run_context
from talkative.orchestrator import planner, trust
from talkative.orchestrator import service as runs
from talkative.orchestrator import steps as run_steps
from talkative.orchestrator.models import Run
from talkative.orchestrator.reducer import RunAction
from talkative.orchestrator.replies import build_reply, reply_from
from talkative.orchestrator.runtime import Runtime
from talkative.orchestrator.schemas import MessageReply
from talkative.prompts.context import Context
from talkative.skills import catalogue, install
from talkative.skills.manifest import Skill
from talkative.workflows import service as workflows
from talkative.workflows.models import Workflow
from talkative.workflows.patch import build_patch, summarize_patch

SETTLED = frozenset({"completed", "failed", "cancelled", "waiting_approval", "paused"})


@dataclass(frozen=True)
class Started:
    run_id: str
    settled: bool
    command_id: str | None = None
    reply: MessageReply | None = None  # when the run ended in the transaction that opened it


@dataclass(frozen=True)
class Planned:
    has_steps: bool
    reply: MessageReply | None
    started: run_steps.StartedTool | None = None  # its first step, started in this transaction


async def _running_agent(session: AsyncSession, tenant_scope: str | None, agent_id: str) -> Agent:
    agent = await agents.get_agent(session=session, tenant_id=tenant_scope, agent_id=agent_id)
    if agent.status != "running":
        raise AgentNotRunning(agent.id)
    return agent


def _event(agent: Agent, run_id: str, type_: EventType, message: str, payload: dict[str, object]) -> NewEvent:
    return NewEvent(
        type=type_,
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
        run_id=run_id,
        message=message,
        payload=payload,
    )


@dataclass
class Opening:
    """What the run's opening transaction learned, carried across the model call."""

    agent_id: str
    tenant_id: str
    run_id: str
    skills: list[Skill]  # those that may run: as an admin attached them (see trust.py)
    skill_set: trust.SkillSet
    ctx: Context
    trail: list[NewEvent]
    command_id: str | None
    # This process's worker holds a slot for the run: it is leased to it when planned, and driven
    # at once after the commit (no claim, no wait for the worker's next pass).
    worker_slot: bool = False


async def _open(
    runtime: Runtime,
    session: AsyncSession,
    *,
    tenant_scope: str | None,
    agent_id: str,
    text: str,
    kind: str,
    parent_run_id: str | None,
    command: runs.CommandRecord | None,
) -> tuple[Agent, Run, Opening, Workflow]:
    agent = await _running_agent(session, tenant_scope, agent_id)
    # The agent's workflow row is the per-agent lock: concurrent runs of one agent open in turn.
    # Taken before the run is added, so that its query has nothing to autoflush (see open_run).
    workflow = await workflows.lock_agent_workflow(session, tenant_id=agent.tenant_id, agent_id=agent.id)
    skill_set = await _skills(runtime, session, agent)  # its query, too, before the run is added
    run = await runs.open_run(
        session,
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
        kind=kind,
        text=text,
        parent_run_id=parent_run_id,
    )
    command_id = None
    if command is not None:
        record = await runs.record_command(
            session,
            tenant_id=agent.tenant_id,
            agent_id=agent.id,
            run_id=run.id,
            type_=command.type,
            payload=command.payload,
            actor=command.actor,
        )
        command_id = record.id
    trail = [_event(agent, run.id, EventType.MESSAGE_RECEIVED, text[:200], {"message": text, "kind": kind})]
    skills = skill_set.trusted
    ctx = await run_context.for_run(
        session, agent=agent, message=text, skills=skills, budget=runtime.settings.context_token_budget
    )
    opening = Opening(agent.id, agent.tenant_id, run.id, skills, skill_set, ctx, trail, command_id)
    return agent, run, opening, workflow


async def _skills(runtime: Runtime, session: AsyncSession, agent: Agent) -> trust.SkillSet:
    """The agent's skills sorted by trust: their pins against their folders now."""
    found = catalogue.list_skills(runtime.workspace(agent.workspace) / "skills")
    pinned = await agents.skill_pins(session=session, agent=agent) if found else {}
    return trust.sort_skills(found, pinned)


async def _refuse(session: AsyncSession, run: Run, opening: Opening, exc: llm.BudgetExceeded) -> None:
    breach = exc.breach
    opening.trail.append(
        NewEvent(
            type=EventType.BUDGET_EXCEEDED,
            tenant_id=opening.tenant_id,
            agent_id=opening.agent_id,
            run_id=run.id,
            message=exc.message,
            payload={"cap": breach.cap, "limit": breach.limit, "spent": breach.spent},
        )
    )
    await events.append(session, opening.trail)
    await runs.transition(session, run, RunAction.FAIL, reason=exc.message)


async def _plan(
    runtime: Runtime,
    session: AsyncSession,
    agent: Agent,
    run: Run,
    opening: Opening,
    completion: Completion,
    ledger_rows: list[UsageRow],
    workflow: Workflow | None,
) -> Planned:
    """Interpretation, workflow patch and plan. `workflow`: the agent's, if this transaction locked it."""
    interpretation, ctx, trail = completion.interpretation, opening.ctx, opening.trail
    context = {"tokens": ctx.tokens, "truncated": ctx.truncated, "sections": ctx.sections}
    usage = [{"model": r.model, "status": r.status, "tokens": r.tokens, "cost": r.cost} for r in ledger_rows]
    trail.append(
        _event(
            agent,
            run.id,
            EventType.INTERPRETATION_RESULT,
            interpretation.summary,
            {
                **interpretation.model_dump(mode="json"),
                "context": context,
                "usage": usage,
                "selected_skills": completion.selected_skills,
            },
        )
    )
    if workflow is None:
        workflow = await workflows.lock_agent_workflow(session, tenant_id=agent.tenant_id, agent_id=agent.id)
    graph = await workflows.current_graph(session, workflow)
    patch = build_patch(graph, interpretation, base_version=workflow.version)
    summary = summarize_patch(patch)
    trail.append(
        _event(agent, run.id, EventType.WORKFLOW_PATCH_PROPOSED, summary, patch.model_dump(mode="json"))
    )
    await workflows.apply_locked(session, workflow, graph, patch, note=summary, run_id=run.id)
    applied = {"workflowId": workflow.id, "version": workflow.version, "summary": summary}
    trail.append(
        _event(
            agent,
            run.id,
            EventType.WORKFLOW_PATCH_APPLIED,
            f"workflow v{workflow.version}: {summary}",
            applied,
        )
    )
    tasks = [t.name for t in interpretation.tasks]
    heartbeat = (
        install.read_heartbeat_commands(runtime.workspace(agent.workspace))
        if any(planner.asks_for_heartbeat(t) for t in tasks)
        else []
    )
    heartbeat, untrusted_commands = trust.split_commands(heartbeat, opening.skill_set)
    steps = planner.plan(
        tasks,
        [s.manifest for s in opening.skills],
        heartbeat_commands=heartbeat,
        sensitive_keywords=runtime.settings.approval_keywords,
        chosen=completion.selected_skills,
    )
    steps = trust.stamp(steps, opening.skill_set)
    refused = trust.refusals(
        opening.skill_set, tasks=tasks, chosen=completion.selected_skills, commands=untrusted_commands
    )
    trail.extend(trust.events(refused, tenant_id=agent.tenant_id, agent_id=agent.id, run_id=run.id))
    if heartbeat:
        trail.append(
            _event(agent, run.id, EventType.HEARTBEAT_TICK, "heartbeat requested", {"commands": heartbeat})
        )
        agent.last_heartbeat_at = utcnow()
    rows = await runs.add_steps(session, run, [(s.kind, s.name, s.spec) for s in steps])
    run.result = {
        "summary": interpretation.summary,
        "interpretation": interpretation.model_dump(mode="json"),
        "workflowPatch": {**patch.model_dump(mode="json"), **applied},
        "heartbeat": bool(heartbeat),
    }
    agent.last_message, agent.last_message_at = run.input[:2000], utcnow()
    if steps and opening.worker_slot:
        run.lease_owner, run.lease_until = runtime.worker.owner, utcnow() + runtime.worker.lease
    else:
        run.lease_owner, run.lease_until = None, None
    started = None
    if rows and rows[0].kind == "tool" and opening.worker_slot:
        # This process's worker runs it right after the commit: the step's start is written here,
        # not in a transaction of its own (a takeover after a crash runs it again, as ever).
        started, event = run_steps.start_tool(run, rows[0], agent.workspace, runtime.worker.lease)
        trail.append(event)
    if not steps:
        notes = "".join(f" Not run: {trust.explain(name, state)}." for name, state, _ in refused)
        run.reply = f"{interpretation.summary} Workflow v{workflow.version}: {summary}.{notes}"
        await runs.transition(session, run, RunAction.COMPLETE, into=trail)
    stored = await events.append(session, trail)
    # A run that ended here needs nothing read back for its reply.
    return Planned(bool(steps), reply_from(run, [], stored) if not steps else None, started)


async def start_run(
    runtime: Runtime,
    *,
    tenant_scope: str | None,
    agent_id: str,
    text: str,
    kind: str = "message",
    parent_run_id: str | None = None,
    command: runs.CommandRecord | None = None,
) -> Started:
    """Opens a run for `text` on a running agent, asks the model (through the router) and plans it.

    With the local model everything is one transaction. With a remote model the opening commits
    first (the run leased so no worker takes it), the call runs outside any transaction, and a
    second transaction records the usage and the plan. A call over budget is not sent: the run
    fails with BUDGET_EXCEEDED and the caller gets a 402. `command`, when a command asked for the
    run, is logged first in the opening transaction.
    """
    worker = runtime.worker
    slot = worker.reserve()
    try:
        planned, run_id, command_id = await _open_and_plan(
            runtime, slot, tenant_scope, agent_id, text, kind, parent_run_id, command
        )
    except BaseException:
        if slot:
            worker.release_reservation()
        raise
    if slot and planned.has_steps:
        worker.adopt(run_id, planned.started)
    elif slot:
        worker.release_reservation()
    if planned.has_steps and not slot:
        worker.wake()
    return Started(run_id=run_id, settled=not planned.has_steps, command_id=command_id, reply=planned.reply)


async def _open_and_plan(
    runtime: Runtime,
    slot: bool,
    tenant_scope: str | None,
    agent_id: str,
    text: str,
    kind: str,
    parent_run_id: str | None,
    command: runs.CommandRecord | None,
) -> tuple[Planned, str, str | None]:
    refused: llm.BudgetExceeded | None = None
    async with runtime.sessionmaker() as session, session.begin():
        agent, run, opening, workflow = await _open(
            runtime,
            session,
            tenant_scope=tenant_scope,
            agent_id=agent_id,
            text=text,
            kind=kind,
            parent_run_id=parent_run_id,
            command=command,
        )
        opening.worker_slot = slot
        try:
            call = await llm.decide(
                session,
                providers=runtime.providers,
                tenant_id=agent.tenant_id,
                agent_id=agent.id,
                run_id=run.id,
                message=text,
                prompt=opening.ctx.text,
                skills=[(s.manifest.name, s.manifest.description) for s in opening.skills],
            )
        except llm.BudgetExceeded as exc:
            await _refuse(session, run, opening, exc)
            refused = exc
        else:
            if call.is_local:
                planned = await _plan_with(
                    runtime, session, agent, run, opening, call, None, None, 0.0, workflow
                )
            else:
                run.lease_owner = "llm-router"
                run.lease_until = utcnow() + timedelta(seconds=runtime.settings.llm_timeout_s * 4 + 30)
    if refused is not None:
        raise refused
    if not call.is_local:
        completion, error, latency = await llm.complete(runtime.providers, call)
        async with runtime.sessionmaker() as session, session.begin():
            run = await runs.get(session, opening.run_id, for_update=True)
            agent = await agents.get_agent(
                session=session, tenant_id=opening.tenant_id, agent_id=opening.agent_id
            )
            # The workflow before the ledger, as in the opening (workflow, then the hold's rollup
            # row): taken the other way round, a settle and a concurrent opening deadlock.
            workflow = await workflows.lock_agent_workflow(
                session, tenant_id=agent.tenant_id, agent_id=agent.id
            )
            planned = await _plan_with(
                runtime, session, agent, run, opening, call, completion, error, latency, workflow
            )
    return planned, opening.run_id, opening.command_id


async def _plan_with(
    runtime: Runtime,
    session: AsyncSession,
    agent: Agent,
    run: Run,
    opening: Opening,
    call: llm.Call,
    completion: Completion | None,
    error: ProviderError | None,
    latency_ms: float,
    workflow: Workflow | None,
) -> Planned:
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
    return await _plan(runtime, session, agent, run, opening, completion, rows, workflow)


async def wait_settled(runtime: Runtime, run_id: str, wait_s: float) -> str:
    """Waits until the run finishes or stops at a gate (or `wait_s` passes); returns its status."""
    loop_deadline = wait_s
    while True:
        async with runtime.sessionmaker() as session:
            status = (await runs.get(session, run_id)).status
        if status in SETTLED or loop_deadline <= 0:
            runtime.watch.forget(run_id)
            return status
        step = min(0.5, loop_deadline)
        await runtime.watch.changed(run_id, step)
        loop_deadline -= step


async def wait_for_reply(runtime: Runtime, run_id: str, wait_s: float) -> MessageReply:
    """The run's reply once it finishes or stops at a gate (or as it is after `wait_s`).

    Woken by this process's worker, it reads the reply at once (one unit of work, no separate
    status read first); otherwise it looks at the run's status every half second.
    """
    watch = runtime.watch
    watch.track(run_id)  # the worker may finish the run before the first wait: keep its notice
    deadline = time.monotonic() + wait_s
    try:
        while True:
            left = deadline - time.monotonic()
            notified = left > 0 and await watch.changed(run_id, min(0.5, left))
            if not notified and left > 0:
                async with runtime.sessionmaker() as session:
                    if (await runs.get(session, run_id)).status not in SETTLED:
                        continue
            reply = await build_reply(runtime, run_id)
            if reply.run_status in SETTLED or deadline <= time.monotonic():
                return reply
    finally:
        watch.forget(run_id)


async def handle_message(
    runtime: Runtime, *, tenant_scope: str | None, agent_id: str, text: str, kind: str = "message"
) -> MessageReply:
    started = await start_run(runtime, tenant_scope=tenant_scope, agent_id=agent_id, text=text, kind=kind)
    if started.reply is not None:
        return started.reply
    if started.settled:
        return await build_reply(runtime, started.run_id)
    return await wait_for_reply(runtime, started.run_id, runtime.settings.message_wait_s)


async def run_heartbeat(runtime: Runtime, *, tenant_id: str, agent_id: str) -> str | None:
    """One scheduled heartbeat: a run with HEARTBEAT_TICK and one tool step per `RUN` line."""
    async with runtime.sessionmaker() as session, session.begin():
        agent = await _running_agent(session, tenant_id, agent_id)
        commands = install.read_heartbeat_commands(runtime.workspace(agent.workspace))
        skill_set = await _skills(runtime, session, agent)
        run = await runs.open_run(
            session, tenant_id=agent.tenant_id, agent_id=agent.id, kind="heartbeat", text=""
        )
        allowed, untrusted = trust.split_commands(commands, skill_set)
        refused = trust.refusals(skill_set, tasks=(), chosen=(), commands=untrusted)
        tick = _event(
            agent,
            run.id,
            EventType.HEARTBEAT_TICK,
            f"heartbeat: {len(commands)} command(s)",
            {"commands": commands},
        )
        trail = [tick, *trust.events(refused, tenant_id=agent.tenant_id, agent_id=agent.id, run_id=run.id)]
        await events.append(session, trail)
        steps = planner.plan(
            ["heartbeat"],
            [],
            heartbeat_commands=allowed,
            sensitive_keywords=(),
            heartbeat_skills=[skill.manifest for skill in skill_set.trusted],
        )
        steps = trust.stamp(steps, skill_set)
        await runs.add_steps(session, run, [(s.kind, s.name, s.spec) for s in steps])
        run.result = {"summary": "Heartbeat.", "heartbeat": True}
        agent.last_heartbeat_at = utcnow()
        agent.next_heartbeat_at = agents.schedule_next_heartbeat(agent)
        if not steps:
            notes = "".join(f" Not run: {trust.explain(name, state)}." for name, state, _ in refused)
            run.reply = f"Heartbeat: nothing to run.{notes}"
            await runs.transition(session, run, RunAction.COMPLETE)
        run_id = run.id
    if steps:
        runtime.worker.wake()
    return run_id
