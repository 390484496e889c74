"""Agent registry logic; callers pass the tenant scope derived from the token."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents.exceptions import AgentExists, AgentNotFound
from talkative.agents.models import Agent
from talkative.agents.schemas import AgentCreate, AgentRead

MAX_SLUG_BASE = 48


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_SLUG_BASE].strip("-")
    return slug or "agent"


def to_read(agent: Agent) -> AgentRead:
    return AgentRead(
        id=agent.id,
        agent_id=agent.id,
        tenant_id=agent.tenant_id,
        name=agent.name,
        status="running" if agent.status == "running" else "stopped",
        workspace=agent.workspace,
        heartbeatMinutes=agent.heartbeat_minutes,
        lastHeartbeatAt=agent.last_heartbeat_at,
        lastMessageAt=agent.last_message_at,
        lastMessage=agent.last_message,
        createdAt=agent.created_at,
        updatedAt=agent.updated_at,
    )


async def _free_id(session: AsyncSession, base: str) -> str:
    candidate = base
    while await session.get(Agent, candidate) is not None:
        candidate = f"{base}-{secrets.token_hex(2)}"
    return candidate


async def create_agent(*, session: AsyncSession, tenant_id: str, data: AgentCreate) -> Agent:
    if data.id is not None:
        agent_id = data.id
        if await session.get(Agent, agent_id) is not None:
            raise AgentExists(agent_id)
    else:
        agent_id = await _free_id(session, slugify(data.name))
    agent = Agent(
        id=agent_id,
        tenant_id=tenant_id,
        name=data.name,
        status="stopped",
        heartbeat_minutes=data.heartbeatMinutes,
        workspace=f"workspaces/{agent_id}",
    )
    session.add(agent)
    try:
        await session.flush()
    except IntegrityError:  # lost a race with a concurrent create of the same id
        await session.rollback()
        raise AgentExists(agent_id) from None
    return agent


async def list_agents(*, session: AsyncSession, tenant_id: str | None, limit: int) -> list[Agent]:
    """The newest `limit` agents in the scope, returned oldest first."""
    query = select(Agent).order_by(Agent.created_at.desc(), Agent.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Agent.tenant_id == tenant_id)
    rows = (await session.scalars(query)).all()
    return list(reversed(rows))


async def get_agent(*, session: AsyncSession, tenant_id: str | None, agent_id: str) -> Agent:
    agent = await session.get(Agent, agent_id)
    # Another tenant's agent is reported exactly like a missing one.
    if agent is None or (tenant_id is not None and agent.tenant_id != tenant_id):
        raise AgentNotFound(agent_id)
    return agent
