"""Gathering what the context builder needs for one run, from the store (the builder stays pure)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents.models import Agent
from talkative.events.models import EventRow
from talkative.events.schemas import EventType
from talkative.prompts import service as prompts
from talkative.prompts.context import Context, EventBrief, SkillBrief, ToolFailure, build_context
from talkative.skills.manifest import Skill

RECENT_EVENTS = 20
FAILURE_WINDOW = 200
RECENT_FAILURES = 5


# Built once; only the agent id changes. Columns, not ORM objects: this runs on every message.
_WINDOW = (
    select(EventRow.id)
    .where(EventRow.agent_id == bindparam("agent_id"))
    .order_by(EventRow.id.desc())
    .limit(FAILURE_WINDOW)
).subquery()
_FINISHED_TOOLS = (
    select(EventRow.payload)
    .where(EventRow.id.in_(select(_WINDOW.c.id)), EventRow.type == EventType.TOOL_RUN_FINISHED)
    .order_by(EventRow.id.desc())
)
_RECENT = (
    select(EventRow.type, EventRow.message, EventRow.payload)
    .where(EventRow.agent_id == bindparam("agent_id"))
    .order_by(EventRow.id.desc())
    .limit(RECENT_EVENTS)
)


async def recent_failures(session: AsyncSession, agent_id: str) -> list[ToolFailure]:
    """The agent's latest failed tool runs, newest last (looked for among its newest events only)."""
    payloads = (await session.scalars(_FINISHED_TOOLS, {"agent_id": agent_id})).all()
    failures = [p for p in payloads if not p.get("ok", True)][:RECENT_FAILURES]
    return [
        ToolFailure(
            command=" ".join(p.get("command") or [])
            if isinstance(p.get("command"), list)
            else str(p.get("command", "")),
            error_code=str((p.get("error") or {}).get("code", "ERROR")),
            exit_code=p.get("exit_code"),
            reason=str((p.get("error") or {}).get("message", "")),
        )
        for p in reversed(failures)
    ]


async def recent_events(session: AsyncSession, agent_id: str) -> list[EventBrief]:
    """The agent's newest events, oldest first (the same index range scan as events.tail)."""
    rows = (await session.execute(_RECENT, {"agent_id": agent_id})).all()
    return [EventBrief(type_, message, payload) for type_, message, payload in reversed(rows)]


async def for_run(
    session: AsyncSession, *, agent: Agent, message: str, skills: list[Skill], budget: int
) -> Context:
    prompt = await prompts.ensure_default(session, tenant_id=agent.tenant_id, agent_id=agent.id)
    return build_context(
        prompt=prompt.template,
        agent_name=agent.name,
        tenant_id=agent.tenant_id,
        message=message,
        skills=[SkillBrief(s.manifest.name, s.manifest.description) for s in skills],
        recent_events=await recent_events(session, agent.id),
        tool_failures=await recent_failures(session, agent.id),
        token_budget=budget,
    )
