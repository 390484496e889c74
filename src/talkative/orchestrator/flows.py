"""The critical loop (SPEC §2) and the other ways work starts: message, task, channel, heartbeat.

Work that spans domains lives here. Opening a run is one short transaction: MESSAGE_RECEIVED, the
context, the interpretation, the workflow patch, and the plan. A run with nothing to execute ends
right there; otherwise the worker executes its steps, and a caller that wants the outcome waits for
the run to finish or to stop at a human gate.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents import service as agents
from talkative.agents.exceptions import AgentNotRunning
from talkative.agents.models import Agent
from talkative.db import utcnow
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.orchestrator import context as run_context
from talkative.orchestrator import planner
from talkative.orchestrator import service as runs
from talkative.orchestrator.reducer import RunAction
from talkative.orchestrator.replies import build_reply
from talkative.orchestrator.runtime import Runtime
from talkative.orchestrator.schemas import MessageReply
from talkative.skills import catalogue, install
from talkative.workflows import service as workflows
from talkative.workflows.patch import build_patch, summarize_patch

SETTLED = frozenset({"completed", "failed", "cancelled", "waiting_approval", "paused"})


@dataclass(frozen=True)
class Started:
    run_id: str
    settled: bool
    command_id: str | None = None


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
    """Opens a run for `text` on a running agent and plans it; returns once that is committed.

    `command`, when the run was asked for by one, is logged first in the same transaction.
    """
    async with runtime.sessionmaker() as session, session.begin():
        agent = await _running_agent(session, tenant_scope, agent_id)
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
        trail = [
            _event(agent, run.id, EventType.MESSAGE_RECEIVED, text[:200], {"message": text, "kind": kind})
        ]

        # The agent's workflow row is the per-agent lock: concurrent runs of one agent open in turn.
        workflow = await workflows.lock(session, workflows.agent_workflow_id(agent.id))
        skills = catalogue.list_skills(runtime.workspace(agent.workspace) / "skills")
        ctx = await run_context.for_run(
            session, agent=agent, message=text, skills=skills, budget=runtime.settings.context_token_budget
        )
        interpretation = runtime.interpreter.interpret(text)
        trail.append(
            _event(
                agent,
                run.id,
                EventType.INTERPRETATION_RESULT,
                interpretation.summary,
                {
                    **interpretation.model_dump(mode="json"),
                    "context": {"tokens": ctx.tokens, "truncated": ctx.truncated, "sections": ctx.sections},
                },
            )
        )

        patch = build_patch(
            await workflows.current_graph(session, workflow), interpretation, base_version=workflow.version
        )
        summary = summarize_patch(patch)
        trail.append(
            _event(agent, run.id, EventType.WORKFLOW_PATCH_PROPOSED, summary, patch.model_dump(mode="json"))
        )
        workflow, _ = await workflows.apply(
            session, workflow_id=workflow.id, tenant_id=None, patch=patch, note=summary, run_id=run.id
        )
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
        steps = planner.plan(
            tasks,
            [s.manifest for s in skills],
            heartbeat_commands=heartbeat,
            sensitive_keywords=runtime.settings.approval_keywords,
        )
        if heartbeat:
            trail.append(
                _event(
                    agent, run.id, EventType.HEARTBEAT_TICK, "heartbeat requested", {"commands": heartbeat}
                )
            )
            agent.last_heartbeat_at = utcnow()
        await runs.add_steps(session, run, [(s.kind, s.name, s.spec) for s in steps])
        run.result = {
            "summary": interpretation.summary,
            "interpretation": interpretation.model_dump(mode="json"),
            "workflowPatch": {**patch.model_dump(mode="json"), **applied},
            "heartbeat": bool(heartbeat),
        }
        agent.last_message, agent.last_message_at = text[:2000], utcnow()
        await events.append(session, trail)
        if not steps:
            run.reply = f"{interpretation.summary} Workflow v{workflow.version}: {summary}."
            await runs.transition(session, run, RunAction.COMPLETE)
        run_id = run.id
    if steps:
        runtime.worker.wake()
    return Started(run_id=run_id, settled=not steps, command_id=command_id)


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


async def handle_message(
    runtime: Runtime, *, tenant_scope: str | None, agent_id: str, text: str, kind: str = "message"
) -> MessageReply:
    started = await start_run(runtime, tenant_scope=tenant_scope, agent_id=agent_id, text=text, kind=kind)
    if not started.settled:
        await wait_settled(runtime, started.run_id, runtime.settings.message_wait_s)
    return await build_reply(runtime, started.run_id)


async def run_heartbeat(runtime: Runtime, *, agent_id: str) -> str | None:
    """One scheduled heartbeat: a run with HEARTBEAT_TICK and one tool step per `RUN` line."""
    async with runtime.sessionmaker() as session, session.begin():
        agent = await _running_agent(session, None, agent_id)
        commands = install.read_heartbeat_commands(runtime.workspace(agent.workspace))
        run = await runs.open_run(
            session, tenant_id=agent.tenant_id, agent_id=agent.id, kind="heartbeat", text=""
        )
        await events.append(
            session,
            [
                _event(
                    agent,
                    run.id,
                    EventType.HEARTBEAT_TICK,
                    f"heartbeat: {len(commands)} command(s)",
                    {"commands": commands},
                )
            ],
        )
        steps = planner.plan(["heartbeat"], [], heartbeat_commands=commands, sensitive_keywords=())
        await runs.add_steps(session, run, [(s.kind, s.name, s.spec) for s in steps])
        run.result = {"summary": "Heartbeat.", "heartbeat": True}
        agent.last_heartbeat_at = utcnow()
        agent.next_heartbeat_at = agents.schedule_next_heartbeat(agent)
        if not steps:
            run.reply = "Heartbeat: nothing to run."
            await runs.transition(session, run, RunAction.COMPLETE)
        run_id = run.id
    if steps:
        runtime.worker.wake()
    return run_id
