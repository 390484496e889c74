"""The critical loop (SPEC §2): message → run → interpretation → workflow patch → skills → reply.

Work that spans domains lives here. Each run is two short units of work around its tool calls, so
no database lock is held while a skill runs; events are stored in those units of work and
published when they commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents import service as agents
from talkative.agents.exceptions import AgentNotRunning
from talkative.agents.models import Agent
from talkative.db import utcnow
from talkative.events import service as events
from talkative.events.schemas import Event, EventType, NewEvent
from talkative.orchestrator import service as runs
from talkative.orchestrator import tooling
from talkative.orchestrator.runtime import Runtime
from talkative.orchestrator.schemas import Action, MessageReply
from talkative.orchestrator.tooling import ToolCall
from talkative.skills import catalogue, install
from talkative.skills.matching import match_skills
from talkative.workflows import service as workflows
from talkative.workflows.patch import build_patch, summarize_patch

HEARTBEAT_WORDS = ("heartbeat", "latido")


@dataclass
class Trail:
    """The events of one run, in order, all sharing its ids."""

    tenant_id: str
    agent_id: str
    run_id: str
    pending: list[NewEvent] = field(default_factory=list)
    stored: list[Event] = field(default_factory=list)

    def add(self, type_: EventType, message: str, payload: dict[str, object] | None = None) -> None:
        self.pending.append(
            NewEvent(
                type=type_,
                tenant_id=self.tenant_id,
                agent_id=self.agent_id,
                run_id=self.run_id,
                message=message,
                payload=payload or {},
            )
        )

    async def flush(self, session: AsyncSession) -> None:
        self.stored.extend(await events.append(session, self.pending))
        self.pending = []


@dataclass
class ToolOutcome:
    actions: list[Action] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _skill_calls(runtime: Runtime, agent: Agent, tasks: list[str]) -> list[ToolCall]:
    """Skills whose triggers match a task."""
    skills = {
        s.manifest.name: s for s in catalogue.list_skills(runtime.workspace(agent.workspace) / "skills")
    }
    # An approval gate for sensitive steps slots in here (skills marked requires_approval).
    return [
        ToolCall(skill=m.skill_name, command=skills[m.skill_name].manifest.command, reason=m.task)
        for m in match_skills(tasks, [s.manifest for s in skills.values()])
    ]


def _heartbeat_calls(runtime: Runtime, agent: Agent) -> list[ToolCall]:
    commands = install.read_heartbeat_commands(runtime.workspace(agent.workspace))
    return [ToolCall(skill=tooling.skill_of(c), command=c, reason="heartbeat") for c in commands]


def _announce_calls(trail: Trail, calls: list[ToolCall]) -> None:
    trail.pending.extend(
        tooling.started_event(c, tenant_id=trail.tenant_id, agent_id=trail.agent_id, run_id=trail.run_id)
        for c in calls
    )


async def _run_tools(runtime: Runtime, trail: Trail, workspace: str, calls: list[ToolCall]) -> ToolOutcome:
    """Runs the calls in order outside any transaction, then records their outcome and the run's."""
    outcome = ToolOutcome()
    finished: list[NewEvent] = []
    for call in calls:
        result = await tooling.execute(runtime, workspace_rel=workspace, call=call)
        finished.extend(
            tooling.finished_events(
                call, result, tenant_id=trail.tenant_id, agent_id=trail.agent_id, run_id=trail.run_id
            )
        )
        error = result.error.model_dump(mode="json") if result.error else None
        outcome.actions.append(
            Action(
                type="tool.executed" if result.ok else "tool.failed",
                skill=call.skill,
                ok=result.ok,
                detail={"artifacts": result.artifacts, "error": error, "reason": call.reason},
            )
        )
        if not result.ok:
            outcome.errors.append(f"{call.skill}: {result.error.message if result.error else 'failed'}")
    async with runtime.sessionmaker() as session, session.begin():
        runs.finish(await runs.get(session, trail.run_id), error="; ".join(outcome.errors) or None)
        trail.pending.extend(finished)
        await trail.flush(session)
    return outcome


async def _running_agent(session: AsyncSession, tenant_scope: str | None, agent_id: str) -> Agent:
    agent = await agents.get_agent(session=session, tenant_id=tenant_scope, agent_id=agent_id)
    if agent.status != "running":
        raise AgentNotRunning(agent.id)
    return agent


async def handle_message(
    runtime: Runtime, *, tenant_scope: str | None, agent_id: str, text: str, kind: str = "message"
) -> MessageReply:
    async with runtime.sessionmaker() as session, session.begin():
        agent = await _running_agent(session, tenant_scope, agent_id)
        run = await runs.open_run(session, tenant_id=agent.tenant_id, agent_id=agent.id, kind=kind, text=text)
        trail = Trail(agent.tenant_id, agent.id, run.id)
        trail.add(EventType.MESSAGE_RECEIVED, text[:200], {"message": text, "kind": kind})

        interpretation = runtime.interpreter.interpret(text)
        trail.add(
            EventType.INTERPRETATION_RESULT, interpretation.summary, interpretation.model_dump(mode="json")
        )

        await workflows.ensure_agent_workflow(
            session, agent_id=agent.id, tenant_id=agent.tenant_id, name=agent.name
        )
        workflow = await workflows.lock(session, workflows.agent_workflow_id(agent.id))
        patch = build_patch(
            await workflows.current_graph(session, workflow), interpretation, base_version=workflow.version
        )
        summary = summarize_patch(patch)
        trail.add(EventType.WORKFLOW_PATCH_PROPOSED, summary, patch.model_dump(mode="json"))
        workflow, _ = await workflows.apply(
            session, workflow_id=workflow.id, tenant_id=None, patch=patch, note=summary, run_id=run.id
        )
        trail.add(
            EventType.WORKFLOW_PATCH_APPLIED,
            f"workflow v{workflow.version}: {summary}",
            {"workflowId": workflow.id, "version": workflow.version, "summary": summary},
        )

        tasks = [t.name for t in interpretation.tasks]
        calls = _skill_calls(runtime, agent, tasks)
        heartbeat = any(word in task.lower() for task in tasks for word in HEARTBEAT_WORDS)
        if heartbeat:
            beat = _heartbeat_calls(runtime, agent)
            trail.add(
                EventType.HEARTBEAT_TICK, "heartbeat requested", {"commands": [c.command for c in beat]}
            )
            planned = {c.command for c in calls}
            calls += [c for c in beat if c.command not in planned]
            agent.last_heartbeat_at = utcnow()
        _announce_calls(trail, calls)
        agent.last_message, agent.last_message_at = text[:2000], utcnow()
        if not calls:
            runs.finish(run)
        await trail.flush(session)
        workspace = agent.workspace

    outcome = await _run_tools(runtime, trail, workspace, calls) if calls else ToolOutcome()
    if heartbeat:
        outcome.actions.append(Action(type="heartbeat.executed", ok=not outcome.errors))
    return MessageReply(
        agentId=trail.agent_id,
        reply=_reply_text(interpretation.summary, summary, workflow.version, outcome.actions),
        run_id=trail.run_id,
        run_status="failed" if outcome.errors else "completed",
        interpretation=interpretation.model_dump(mode="json"),
        workflowPatch={
            **patch.model_dump(mode="json"),
            "workflowId": workflow.id,
            "version": workflow.version,
            "summary": summary,
        },
        actions=outcome.actions,
        events=trail.stored,
    )


async def run_heartbeat(runtime: Runtime, *, agent_id: str) -> ToolOutcome:
    """One scheduled heartbeat: HEARTBEAT_TICK, then every `RUN` line of HEARTBEAT.md."""
    async with runtime.sessionmaker() as session, session.begin():
        agent = await _running_agent(session, None, agent_id)
        run = await runs.open_run(
            session, tenant_id=agent.tenant_id, agent_id=agent.id, kind="heartbeat", text=""
        )
        trail = Trail(agent.tenant_id, agent.id, run.id)
        calls = _heartbeat_calls(runtime, agent)
        trail.add(
            EventType.HEARTBEAT_TICK,
            f"heartbeat: {len(calls)} command(s)",
            {"commands": [c.command for c in calls]},
        )
        _announce_calls(trail, calls)
        agent.last_heartbeat_at = utcnow()
        agent.next_heartbeat_at = agents.schedule_next_heartbeat(agent)
        if not calls:
            runs.finish(run)
        await trail.flush(session)
        workspace = agent.workspace
    return await _run_tools(runtime, trail, workspace, calls) if calls else ToolOutcome()


def _reply_text(understood: str, patch_summary: str, version: int, actions: list[Action]) -> str:
    parts = [understood or "Nothing to do.", f"Workflow v{version}: {patch_summary}."]
    parts += [f"{a.skill} {'finished' if a.ok else 'failed'}." for a in actions if a.skill]
    return " ".join(parts)
