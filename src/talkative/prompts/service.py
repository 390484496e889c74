"""Prompt versions per (tenant, agent); exactly one is active, and a new agent starts with one."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents.models import Agent
from talkative.db import newest_last, utcnow
from talkative.errors import NotFound
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.prompts.models import Prompt

DEFAULT_TEMPLATE = (
    "You are {agent_name}, a Talkative agent working for tenant {tenant_id}. Turn the operator's request "
    "into ordered tasks, run the skills that fit, and never perform a sensitive action without approval."
)


async def versions(
    session: AsyncSession, *, tenant_id: str | None, agent_id: str | None, limit: int = 200
) -> list[Prompt]:
    query = select(Prompt).order_by(Prompt.created_at.desc(), Prompt.version.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Prompt.tenant_id == tenant_id)
    if agent_id is not None:
        query = query.where(Prompt.agent_id == agent_id)
    return await newest_last(session, query)


async def active(session: AsyncSession, *, tenant_id: str, agent_id: str) -> Prompt | None:
    return await session.scalar(
        select(Prompt).where(
            Prompt.tenant_id == tenant_id, Prompt.agent_id == agent_id, Prompt.is_active.is_(True)
        )
    )


async def create(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str,
    template: str,
    activate: bool,
    announce: bool = True,
) -> Prompt:
    # Versions are numbered under the agent's row lock: concurrent creates queue, none reuses a number.
    await session.execute(
        select(Agent.id).where(Agent.tenant_id == tenant_id, Agent.id == agent_id).with_for_update()
    )
    latest = await session.scalar(
        select(Prompt.version)
        .where(Prompt.tenant_id == tenant_id, Prompt.agent_id == agent_id)
        .order_by(Prompt.version.desc())
        .limit(1)
    )
    first = latest is None
    prompt = Prompt(
        id=f"prm_{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        agent_id=agent_id,
        version=(latest or 0) + 1,
        template=template,
        is_active=False,
        created_at=utcnow(),
    )
    session.add(prompt)
    await session.flush()
    if activate or first:
        await activate_version(
            session, tenant_id=tenant_id, agent_id=agent_id, version=prompt.version, announce=announce
        )
    return prompt


async def activate_version(
    session: AsyncSession, *, tenant_id: str, agent_id: str, version: int, announce: bool = True
) -> Prompt:
    target = await session.scalar(
        select(Prompt).where(
            Prompt.tenant_id == tenant_id, Prompt.agent_id == agent_id, Prompt.version == version
        )
    )
    if target is None:
        raise NotFound(f"prompt version {version} of agent '{agent_id}' not found", code="PROMPT_NOT_FOUND")
    # Deactivate first and flush, so the one-active unique index never sees two at once.
    await session.execute(
        update(Prompt)
        .where(Prompt.tenant_id == tenant_id, Prompt.agent_id == agent_id, Prompt.id != target.id)
        .values(is_active=False)
    )
    await session.flush()
    target.is_active = True
    await session.flush()
    if not announce:
        return target
    await events.append(
        session,
        [
            NewEvent(
                type=EventType.PROMPT_ACTIVATED,
                tenant_id=tenant_id,
                agent_id=agent_id,
                message=f"prompt v{version} is active",
                payload={"version": version, "prompt_id": target.id},
            )
        ],
    )
    return target


async def ensure_default(session: AsyncSession, *, tenant_id: str, agent_id: str) -> Prompt:
    current = await active(session, tenant_id=tenant_id, agent_id=agent_id)
    if current is not None:
        return current
    return await create(
        session,
        tenant_id=tenant_id,
        agent_id=agent_id,
        template=DEFAULT_TEMPLATE,
        activate=True,
        announce=False,
    )
