"""Gathering what the context builder needs for one run, from the store (the builder stays pure)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents.models import Agent
from talkative.events import service as events
from talkative.events.models import EventRow
from talkative.events.schemas import EventType
from talkative.prompts import service as prompts
from talkative.prompts.context import Context, EventBrief, SkillBrief, ToolFailure, build_context
from talkative.skills.manifest import Skill

RECENT_EVENTS = 20
FAILURE_WINDOW = 200
RECENT_FAILURES = 5


async def recent_failures(session: AsyncSession, agent_id: str) -> list[ToolFailure]:
    """The agent's latest failed tool runs, newest last (looked for among its newest events only)."""
    window = (
        select(EventRow.id)
        .where(EventRow.agent_id == agent_id)
        .order_by(EventRow.id.desc())
        .limit(FAILURE_WINDOW)
    ).subquery()
    rows = (
        await session.scalars(
            select(EventRow)
            .where(EventRow.id.in_(select(window.c.id)), EventRow.type == EventType.TOOL_RUN_FINISHED)
            .order_by(EventRow.id.desc())
        )
    ).all()
    failures = [r for r in rows if not r.payload.get("ok", True)][:RECENT_FAILURES]
    return [
        ToolFailure(
            command=" ".join(r.payload.get("command") or [])
            if isinstance(r.payload.get("command"), list)
            else str(r.payload.get("command", "")),
            error_code=str((r.payload.get("error") or {}).get("code", "ERROR")),
            exit_code=r.payload.get("exit_code"),
            reason=str((r.payload.get("error") or {}).get("message", "")),
        )
        for r in reversed(failures)
    ]


async def for_run(
    session: AsyncSession, *, agent: Agent, message: str, skills: list[Skill], budget: int
) -> Context:
    prompt = await prompts.ensure_default(session, tenant_id=agent.tenant_id, agent_id=agent.id)
    recent = await events.tail(session, agent_id=agent.id, limit=RECENT_EVENTS)
    return build_context(
        prompt=prompt.template,
        agent_name=agent.name,
        tenant_id=agent.tenant_id,
        message=message,
        skills=[SkillBrief(s.manifest.name, s.manifest.description) for s in skills],
        recent_events=[EventBrief(e.type, e.message, e.payload) for e in recent],
        tool_failures=await recent_failures(session, agent.id),
        token_budget=budget,
    )
