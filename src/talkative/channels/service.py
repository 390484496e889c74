"""Client messages (processed by agents through the orchestrator) and the operators' audit trail."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.channels.models import ClientMessage, InternalAction
from talkative.db import newest_last, utcnow
from talkative.runs.models import Run


async def record_message(
    session: AsyncSession, *, tenant_id: str, agent_id: str, client_id: str, text: str, run_id: str
) -> ClientMessage:
    message = ClientMessage(
        id=f"msg_{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        agent_id=agent_id,
        client_id=client_id,
        text=text,
        run_id=run_id,
        created_at=utcnow(),
    )
    session.add(message)
    await session.flush()
    return message


async def list_messages(
    session: AsyncSession, *, tenant_id: str | None, agent_id: str | None, client_id: str | None, limit: int
) -> list[tuple[ClientMessage, Run | None]]:
    query = (
        select(ClientMessage, Run)
        .outerjoin(Run, Run.id == ClientMessage.run_id)
        .order_by(ClientMessage.created_at.desc(), ClientMessage.id.desc())
        .limit(limit)
    )
    if tenant_id is not None:
        query = query.where(ClientMessage.tenant_id == tenant_id)
    if agent_id is not None:
        query = query.where(ClientMessage.agent_id == agent_id)
    if client_id is not None:
        query = query.where(ClientMessage.client_id == client_id)
    rows = (await session.execute(query)).all()
    return [(m, r) for m, r in reversed(rows)]


async def record_action(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str | None,
    operator_id: str,
    action: str,
    payload: dict[str, Any],
) -> InternalAction:
    entry = InternalAction(
        id=f"act_{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        agent_id=agent_id,
        operator_id=operator_id,
        action=action,
        payload=payload,
        created_at=utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def list_actions(
    session: AsyncSession, *, tenant_id: str | None, agent_id: str | None, limit: int
) -> list[InternalAction]:
    query = (
        select(InternalAction)
        .order_by(InternalAction.created_at.desc(), InternalAction.id.desc())
        .limit(limit)
    )
    if tenant_id is not None:
        query = query.where(InternalAction.tenant_id == tenant_id)
    if agent_id is not None:
        query = query.where(InternalAction.agent_id == agent_id)
    return await newest_last(session, query)
