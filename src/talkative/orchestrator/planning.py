"""Opening and planning a run: what the flows do in the run's opening transaction(s).

`open_run` records MESSAGE_RECEIVED, gathers the context and the agent's trusted skills; `plan`
records the interpretation, patches the agent's workflow and adds the steps. The run is `pending`
until it is planned (so no worker takes it while a remote model thinks), then `running`, or
`completed` at once when there is nothing to execute.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents import service as agents
from talkative.agents.exceptions import AgentNotRunning
from talkative.agents.models import Agent, AgentStatus
from talkative.conversation.schemas import task_key
from talkative.db import utcnow
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.llm_router import service as llm
from talkative.llm_router.models import UsageRow
from talkative.llm_router.providers.base import Completion
from talkative.orchestrator import context as run_context
from talkative.orchestrator import trust
from talkative.prompts.context import Context
from talkative.runs import planner
from talkative.runs import service as runs
from talkative.runs.models import Run
from talkative.runs.notices import notices_for, sentences
from talkative.runs.reducer import RunAction, RunStatus
from talkative.runs.replies import reply_from
from talkative.runs.schemas import MessageReply
from talkative.runtime import Runtime
from talkative.skills import catalogue, install
from talkative.skills.manifest import Skill
from talkative.workflows import service as workflows
from talkative.workflows.models import Workflow
from talkative.workflows.patch import build_patch, nodes_by_task, summarize_patch


@dataclass
class Opening:
    """What the run's opening transaction learned, carried across a remote model call."""

    agent_id: str
    tenant_id: str
    run_id: str
    skills: list[Skill]  # those that may run: as an admin attached them (see trust.py)
    skill_set: trust.SkillSet
    ctx: Context
    trail: list[NewEvent]  # events not stored yet: they are stored with the plan
    command_id: str | None


@dataclass(frozen=True)
class Planned:
    has_steps: bool
    reply: MessageReply | None = None  # when the run ended where it was planned


def event(agent: Agent, run_id: str, type_: EventType, message: str, payload: dict[str, object]) -> NewEvent:
    return NewEvent(
        type=type_,
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
        run_id=run_id,
        message=message,
        payload=payload,
    )


async def running_agent(session: AsyncSession, tenant_scope: str | None, agent_id: str) -> Agent:
    agent = await agents.get_agent(session=session, tenant_id=tenant_scope, agent_id=agent_id)
    if agent.status != AgentStatus.RUNNING:
        raise AgentNotRunning(agent.id)
    return agent


async def skills_of(runtime: Runtime, session: AsyncSession, agent: Agent) -> trust.SkillSet:
    """The agent's skills sorted by trust: their pins against their folders now."""
    found = catalogue.list_skills(runtime.workspace(agent.workspace) / "skills")
    pinned = await agents.skill_pins(session=session, agent=agent) if found else {}
    return trust.sort_skills(found, pinned)


async def open_run(
    runtime: Runtime,
    session: AsyncSession,
    *,
    tenant_scope: str | None,
    agent_id: str,
    text: str,
    kind: str,
    parent_run_id: str | None,
    command: runs.CommandRecord | None,
    requested_by: str | None = None,
) -> tuple[Agent, Run, Opening, Workflow]:
    agent = await running_agent(session, tenant_scope, agent_id)
    # The agent's workflow row is the per-agent lock: concurrent runs of one agent open in turn.
    workflow = await workflows.lock_agent_workflow(session, tenant_id=agent.tenant_id, agent_id=agent.id)
    skill_set = await skills_of(runtime, session, agent)
    run = await runs.open_run(
        session,
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
        kind=kind,
        text=text,
        parent_run_id=parent_run_id,
        requested_by=requested_by,
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
    trail = [event(agent, run.id, EventType.MESSAGE_RECEIVED, text[:200], {"message": text, "kind": kind})]
    skills = skill_set.trusted
    ctx = await run_context.for_run(
        session, agent=agent, message=text, skills=skills, budget=runtime.settings.context_token_budget
    )
    opening = Opening(agent.id, agent.tenant_id, run.id, skills, skill_set, ctx, trail, command_id)
    return agent, run, opening, workflow


async def refuse(session: AsyncSession, run: Run, opening: Opening, exc: llm.BudgetExceeded) -> None:
    """The model call would go over a budget: it is not sent, and the run fails saying so."""
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
    if run.status != RunStatus.CANCELLED:  # (the hold runs after the opening: a cancel may come first)
        await runs.transition(session, run, RunAction.FAIL, reason=exc.message)


async def plan(
    runtime: Runtime,
    session: AsyncSession,
    agent: Agent,
    run: Run,
    opening: Opening,
    completion: Completion,
    ledger_rows: list[UsageRow],
    workflow: Workflow,
) -> Planned:
    """Interpretation, workflow patch and plan, in the transaction that holds `workflow` locked."""
    interpretation, ctx, trail = completion.interpretation, opening.ctx, opening.trail
    tasks = [t.name for t in interpretation.tasks]
    heartbeat_asked = any(planner.asks_for_heartbeat(t) for t in tasks)
    heartbeat = install.read_heartbeat_commands(runtime.workspace(agent.workspace)) if heartbeat_asked else []
    with session.no_autoflush:  # the run being opened is written once, in its final state (~4%)
        graph = await workflows.current_graph(session, workflow)
    patch = build_patch(graph, interpretation, base_version=workflow.version)
    summary = summarize_patch(patch)
    # A patch that changes nothing writes no version: repeating a message leaves the workflow as is.
    changed = await workflows.apply_locked(session, workflow, graph, patch, note=summary, run_id=run.id)
    unmatched = planner.unmatched_tasks(tasks, [s.manifest for s in opening.skills])
    notices = notices_for(
        unmatched=unmatched,
        dropped=interpretation.dropped_tasks,
        dropped_count=interpretation.dropped_count,
        kept=len(tasks),
        heartbeat_asked=heartbeat_asked,
        heartbeat_lines=len(heartbeat),
        workflow_changed=changed,
        version=workflow.version,
    )
    told = [n.model_dump(mode="json") for n in notices]
    context = {"tokens": ctx.tokens, "truncated": ctx.truncated, "sections": ctx.sections}
    usage = [{"model": r.model, "status": r.status, "tokens": r.tokens, "cost": r.cost} for r in ledger_rows]
    understood = {
        **interpretation.model_dump(mode="json"),
        "context": context,
        "usage": usage,
        "selected_skills": completion.selected_skills,
        "unmatched_tasks": unmatched,
        "notices": told,
    }
    trail.append(event(agent, run.id, EventType.INTERPRETATION_RESULT, interpretation.summary, understood))
    proposed = {**patch.model_dump(mode="json"), "unchanged": not changed}
    trail.append(event(agent, run.id, EventType.WORKFLOW_PATCH_PROPOSED, summary, proposed))
    applied = {"workflowId": workflow.id, "version": workflow.version, "summary": summary}
    applied["unchanged"] = not changed
    if changed:
        message = f"workflow v{workflow.version}: {summary}"
        trail.append(event(agent, run.id, EventType.WORKFLOW_PATCH_APPLIED, message, applied))
    heartbeat, untrusted_commands = trust.split_commands(heartbeat, opening.skill_set)
    steps = planner.plan(
        tasks,
        [s.manifest for s in opening.skills],
        heartbeat_commands=heartbeat,
        sensitive_keywords=runtime.settings.approval_keywords,
        chosen=completion.selected_skills,
    )
    nodes = nodes_by_task(graph, patch)
    steps = [
        replace(step, node_id=nodes.get(task_key(step.task))) if step.task else step
        for step in trust.stamp(steps, opening.skill_set)
    ]
    refused = trust.refusals(
        opening.skill_set, tasks=tasks, chosen=completion.selected_skills, commands=untrusted_commands
    )
    trail.extend(trust.events(refused, tenant_id=agent.tenant_id, agent_id=agent.id, run_id=run.id))
    if heartbeat:
        tick = event(agent, run.id, EventType.HEARTBEAT_TICK, "heartbeat requested", {"commands": heartbeat})
        trail.append(tick)
        agent.last_heartbeat_at = utcnow()
    run.result = {
        "summary": interpretation.summary,
        "interpretation": interpretation.model_dump(mode="json"),
        "workflowPatch": {**patch.model_dump(mode="json"), **applied},
        "heartbeat": bool(heartbeat),
        "unmatched_tasks": unmatched,
        "notices": told,
    }
    agent.last_message, agent.last_message_at = run.input[:2000], utcnow()
    stored = await events.append(session, trail)
    if run.status == RunStatus.CANCELLED:  # cancelled while the model thought: nothing more to do
        return Planned(has_steps=False)
    if run.status == RunStatus.PENDING:  # (a run paused meanwhile starts when it is resumed)
        runs.start(run)
    await runs.add_steps(session, run, steps)
    if steps or run.status != RunStatus.RUNNING:
        return Planned(has_steps=bool(steps))
    said = [interpretation.summary, f"Workflow v{workflow.version}: {summary}." if changed else ""]
    said += [sentences(notices), *(f"Not run: {trust.explain(name, state)}." for name, state, _ in refused)]
    run.reply = " ".join(part for part in said if part)
    stored.append(await runs.transition(session, run, RunAction.COMPLETE))
    # It ended here: its reply is made from what this transaction wrote (reading it back after the
    # commit cost ~1.5 ms, a third of a message with the local model; bench.writes, make bench).
    return Planned(has_steps=False, reply=reply_from(run, [], stored))
