"""Approval requests: created before sensitive steps, decided once by an operator of the tenant."""

from __future__ import annotations

import secrets

from sqlalchemy import ColumnElement, and_, case, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative import paging
from talkative.approvals.models import SYSTEM, Approval, ApprovalStatus
from talkative.db import utcnow
from talkative.errors import Conflict, NotFound
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.paging import Cursor


async def request(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str,
    run_id: str | None,
    reason: str,
    step_idx: int | None = None,
) -> Approval:
    approval = Approval(
        id=f"apr_{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        agent_id=agent_id,
        run_id=run_id,
        step_idx=step_idx,
        reason=reason,
        status=ApprovalStatus.PENDING,
        requested_at=utcnow(),
    )
    session.add(approval)
    await session.flush()
    await events.append(
        session,
        [
            NewEvent(
                type=EventType.APPROVAL_REQUESTED,
                tenant_id=tenant_id,
                agent_id=agent_id,
                run_id=run_id,
                message=f"approval needed: {reason}",
                payload={"approval_id": approval.id, "reason": reason, "step": step_idx},
            )
        ],
    )
    return approval


async def get(
    session: AsyncSession, approval_id: str, *, tenant_id: str | None, for_update: bool = False
) -> Approval:
    query = select(Approval).where(Approval.id == approval_id)
    if for_update:
        query = query.with_for_update()
    approval = await session.scalar(query)
    if approval is None or (tenant_id is not None and approval.tenant_id != tenant_id):
        raise NotFound(f"approval '{approval_id}' not found", code="APPROVAL_NOT_FOUND")
    return approval


async def decide(
    session: AsyncSession, approval: Approval, *, decision: str, decider: str, note: str | None
) -> Approval:
    """Records the decision; a request is decided once (409 after)."""
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(
            f"approval '{approval.id}' was already {approval.status} by {approval.decided_by or SYSTEM}",
            code="ALREADY_DECIDED",
        )
    approval.status, approval.decided_by, approval.note, approval.decided_at = (
        decision,
        decider,
        note,
        utcnow(),
    )
    await events.append(
        session,
        [
            NewEvent(
                type=EventType.APPROVAL_DECIDED,
                tenant_id=approval.tenant_id,
                agent_id=approval.agent_id,
                run_id=approval.run_id,
                message=f"{decision} by {decider}",
                payload={
                    "approval_id": approval.id,
                    "decision": decision,
                    "decided_by": decider,
                    "note": note,
                },
            )
        ],
    )
    return approval


# Pending requests come first (what waits for someone), then the ended ones.
_RANK: ColumnElement[int] = case((Approval.status == ApprovalStatus.PENDING, 0), else_=1)


async def list_approvals(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    agent_id: str | None,
    status: str | None,
    limit: int,
    run_id: str | None = None,
    before: Cursor | None = None,
) -> list[Approval]:
    """Up to `limit` requests after `before`: pending ones first, then the rest, newest first in each."""
    query = select(Approval).order_by(_RANK, Approval.requested_at.desc(), Approval.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Approval.tenant_id == tenant_id)
    if agent_id is not None:
        query = query.where(Approval.agent_id == agent_id)
    if run_id is not None:
        query = query.where(Approval.run_id == run_id)
    if status is not None:
        query = query.where(Approval.status == status)
    if before is not None:
        older = or_(
            Approval.requested_at < before.at,
            and_(Approval.requested_at == before.at, Approval.id < before.id),
        )
        rank = literal(before.rank)
        query = query.where(or_(rank < _RANK, and_(rank == _RANK, older)))
    return list((await session.scalars(query)).all())


def cursor_of(approval: Approval) -> Cursor:
    rank = 0 if approval.status == ApprovalStatus.PENDING else 1
    return Cursor(rank, approval.requested_at, approval.id)


async def approvals_page(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    agent_id: str | None,
    run_id: str | None,
    status: str | None,
    before: str | None,
    limit: int,
) -> tuple[list[Approval], str | None]:
    """A page of `list_approvals` and the cursor of the next one, None when none is."""
    rows = await list_approvals(
        session,
        tenant_id=tenant_id,
        agent_id=agent_id,
        run_id=run_id,
        status=status,
        before=None if before is None else paging.decode(before),
        limit=limit + 1,
    )
    return paging.page_of(rows, limit, cursor_of, newest_last=False)


async def for_run(session: AsyncSession, run_id: str) -> list[Approval]:
    query = select(Approval).where(Approval.run_id == run_id).order_by(Approval.requested_at, Approval.id)
    return list((await session.scalars(query)).all())


async def pending_for_run(session: AsyncSession, run_id: str) -> list[Approval]:
    query = (
        select(Approval)
        .where(Approval.run_id == run_id, Approval.status == ApprovalStatus.PENDING)
        .order_by(Approval.requested_at)
    )
    return list((await session.scalars(query)).all())
