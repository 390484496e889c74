"""Choosing the agent for a message that names none: the running agent whose skills fit best."""

from __future__ import annotations

from sqlalchemy import select

from talkative.agents.models import Agent, AgentStatus
from talkative.errors import Conflict
from talkative.runtime import Runtime
from talkative.skills import catalogue
from talkative.skills.matching import score_skills

MAX_CANDIDATES = 200


async def best_agent(runtime: Runtime, *, tenant_scope: str | None, text: str) -> Agent:
    """The chosen agent (loaded, then detached: read its `tenant_id` and `id`)."""
    async with runtime.sessionmaker() as session:
        query = (
            select(Agent)
            .where(Agent.status == AgentStatus.RUNNING)
            .order_by(Agent.last_message_at.desc().nulls_last(), Agent.id)
        )
        if tenant_scope is not None:
            query = query.where(Agent.tenant_id == tenant_scope)
        candidates = list((await session.scalars(query.limit(MAX_CANDIDATES))).all())
    if not candidates:
        raise Conflict("no running agent to take this message; start one first", code="NO_RUNNING_AGENT")
    best, best_score = candidates[0], 0
    for agent in candidates:
        skills = catalogue.list_skills(runtime.workspace(agent.workspace) / "skills")
        score = sum(s.score for s in score_skills(text, [s.manifest for s in skills]))
        if score > best_score:
            best, best_score = agent, score
    return best
