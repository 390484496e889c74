"""Approval requests: created before sensitive steps, decided once by an operator of the tenant, or
under the tenant's policy (policy.py) by enough of its approvers before its deadline."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative import paging
from talkative.approvals import policy as policies
from talkative.approvals.models import SYSTEM, Approval, ApprovalStatus, ApprovalVote
from talkative.auth.principal import Role
from talkative.db import db_now, utcnow
from talkative.errors import Conflict, Forbidden, NotFound
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.paging import Cursor

NO_APPROVER = "no approver can approve this"
DEADLINE_PASSED = "the deadline passed"


async def request(
    session: AsyncSession,
    *,
    tenant_id: str,
    agent_id: str,
    run_id: str | None,
    reason: str,
    step_idx: int | None = None,
    requested_by: str | None = None,
) -> Approval:
    """A pending approval, under the tenant's policy if it has one. When no approver can satisfy
    its stage it ends at once (escalated, or EXPIRED: the caller rejects its step)."""
    now = await db_now(session)
    approval = Approval(
        id=f"apr_{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        agent_id=agent_id,
        run_id=run_id,
        step_idx=step_idx,
        reason=reason,
        status=ApprovalStatus.PENDING,
        requested_at=now,
        requested_by=requested_by,
        required=1,
        stage=0,
    )
    rules = await policies.policy_of(session, tenant_id)
    if rules is not None:
        _enter_stage(approval, rules, 0, now)
    session.add(approval)
    await session.flush()
    await events.append(
        session, [_stage_event(approval, EventType.APPROVAL_REQUESTED, f"approval needed: {reason}")]
    )
    if rules is not None:
        await _settle_stage(session, approval, rules, now)
    return approval


def approvers_of(approval: Approval) -> dict[str, list[str]]:
    """Who may approve at the approval's current stage (without a policy: any admin or operator)."""
    if approval.approvers is None:
        return {"roles": [Role.ADMIN.value, Role.OPERATOR.value], "subjects": []}
    return {
        "roles": list(approval.approvers.get("roles", [])),
        "subjects": list(approval.approvers.get("subjects", [])),
    }


def _stage_event(approval: Approval, type_: EventType, message: str) -> NewEvent:
    return NewEvent(
        type=type_,
        tenant_id=approval.tenant_id,
        agent_id=approval.agent_id,
        run_id=approval.run_id,
        message=message,
        payload={
            "approval_id": approval.id,
            "reason": approval.reason,
            "step": approval.step_idx,
            "requested_by": approval.requested_by,
            "required": approval.required,
            "stage": approval.stage,
            "deadline_at": None if approval.deadline_at is None else approval.deadline_at.isoformat(),
            "approvers": approvers_of(approval),
        },
    )


def _enter_stage(approval: Approval, rules: policies.ApprovalPolicy, stage: int, now: datetime) -> None:
    """The approval now waits at `stage`: its approvers, votes needed, deadline and reminder."""
    spec = rules.stages[stage]
    approval.stage = stage
    approval.approvers = {"roles": list(spec.roles), "subjects": list(spec.subjects)}
    approval.required = spec.required
    approval.deadline_at = None if spec.deadline_s is None else now + timedelta(seconds=spec.deadline_s)
    approval.remind_at = (
        None
        if approval.deadline_at is None or spec.remind_before_s is None
        else approval.deadline_at - timedelta(seconds=spec.remind_before_s)
    )


async def _voters(session: AsyncSession, approval_id: str) -> list[ApprovalVote]:
    query = select(ApprovalVote).where(ApprovalVote.approval_id == approval_id).order_by(ApprovalVote.id)
    return list((await session.scalars(query)).all())


async def satisfiable(session: AsyncSession, approval: Approval) -> bool:
    """Whether anyone can still approve the current stage: a role can always be someone new; named
    subjects count without the requester and those who voted already (one vote per approval)."""
    who = approvers_of(approval)
    if who["roles"]:
        return True
    votes = await _voters(session, approval.id)
    approving = sum(1 for v in votes if v.stage == approval.stage and v.decision == ApprovalStatus.APPROVED)
    voted = {v.subject for v in votes}
    left = set(who["subjects"]) - voted - {approval.requested_by}
    return approving + len(left) >= approval.required


async def _settle_stage(
    session: AsyncSession, approval: Approval, rules: policies.ApprovalPolicy | None, now: datetime
) -> None:
    """Fail closed: a stage nobody can satisfy escalates (if the policy says so) or expires now."""
    while approval.status == ApprovalStatus.PENDING and not await satisfiable(session, approval):
        if not await _escalate(session, approval, rules, now):
            await expire(session, approval, note=NO_APPROVER, now=now)


async def _escalate(
    session: AsyncSession, approval: Approval, rules: policies.ApprovalPolicy | None, now: datetime
) -> bool:
    """Moves the approval to the policy's next stage (the policy as it is now); False when it has none."""
    if rules is None or rules.on_deadline != "escalate" or approval.stage + 1 >= len(rules.stages):
        return False
    _enter_stage(approval, rules, approval.stage + 1, now)
    await events.append(
        session,
        [_stage_event(approval, EventType.APPROVAL_ESCALATED, f"escalated to stage {approval.stage}")],
    )
    return True


async def expire(session: AsyncSession, approval: Approval, *, note: str, now: datetime) -> None:
    """Ends a pending approval unapproved: the caller rejects its step, as a human rejection would."""
    approval.status, approval.decided_by, approval.note, approval.decided_at = (
        ApprovalStatus.EXPIRED,
        SYSTEM,
        note,
        now,
    )
    await events.append(
        session,
        [
            NewEvent(
                type=EventType.APPROVAL_EXPIRED,
                tenant_id=approval.tenant_id,
                agent_id=approval.agent_id,
                run_id=approval.run_id,
                message=f"expired: {note}",
                payload={"approval_id": approval.id, "stage": approval.stage, "outcome": "rejected"},
            )
        ],
    )


async def on_deadline(session: AsyncSession, approval: Approval, now: datetime) -> None:
    """The current stage's deadline passed: escalate by the tenant's policy as it is now, or expire."""
    rules = await policies.policy_of(session, approval.tenant_id)
    if await _escalate(session, approval, rules, now):
        await _settle_stage(session, approval, rules, now)
    else:
        await expire(session, approval, note=DEADLINE_PASSED, now=now)


async def remind(session: AsyncSession, approval: Approval, now: datetime) -> None:
    """Once per stage, before its deadline: APPROVAL_REMINDER (the channels send it on)."""
    approval.reminded_stage, approval.reminded_at = approval.stage, now
    await events.append(
        session,
        [_stage_event(approval, EventType.APPROVAL_REMINDER, f"reminder: {approval.reason}"[:200])],
    )


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
    session: AsyncSession,
    approval: Approval,
    *,
    decision: str,
    decider: str,
    note: str | None,
    role: Role | None = None,
    now: datetime | None = None,
) -> bool:
    """Records a decision or, under a policy, a vote; True when the approval is now decided.

    Decided once (409 after). Under a policy: never by its requester (403 SELF_APPROVAL), only by
    the current stage's approvers (403 NOT_AN_APPROVER), one vote per subject (409 ALREADY_VOTED),
    not after the stage's deadline (409 DEADLINE_PASSED); `required` approve votes approve it, a
    reject vote rejects it."""
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(
            f"approval '{approval.id}' was already {approval.status} by {approval.decided_by or SYSTEM}",
            code="ALREADY_DECIDED",
        )
    now = now or utcnow()
    governed = approval.approvers is not None
    if governed and not await _vote(session, approval, decision, decider, note, role, now):
        return False
    approval.status, approval.decided_by, approval.note, approval.decided_at = (
        decision,
        decider,
        note,
        now,
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
    return True


async def _vote(
    session: AsyncSession,
    approval: Approval,
    decision: str,
    decider: str,
    note: str | None,
    role: Role | None,
    now: datetime,
) -> bool:
    """Stores the vote; True when it decides the approval."""
    if approval.requested_by is not None and decider == approval.requested_by:
        raise Forbidden("the requester may not approve their own request", code="SELF_APPROVAL")
    who = approvers_of(approval)
    if (role is None or role.value not in who["roles"]) and decider not in who["subjects"]:
        raise Forbidden(
            f"'{decider}' is not an approver of this request at its stage {approval.stage}",
            code="NOT_AN_APPROVER",
        )
    votes = await _voters(session, approval.id)
    if any(v.subject == decider for v in votes):
        raise Conflict(f"'{decider}' has voted on approval '{approval.id}' already", code="ALREADY_VOTED")
    if approval.deadline_at is not None and now >= approval.deadline_at:
        raise Conflict(f"approval '{approval.id}' is past its deadline", code="DEADLINE_PASSED")
    session.add(
        ApprovalVote(
            approval_id=approval.id,
            subject=decider,
            role=(role.value if role is not None else ""),
            decision=decision,
            stage=approval.stage,
            note=note,
            at=now,
        )
    )
    await session.flush()
    if decision != ApprovalStatus.APPROVED:
        return True
    approving = {
        v.subject for v in votes if v.stage == approval.stage and v.decision == ApprovalStatus.APPROVED
    }
    return len(approving | {decider}) >= approval.required


async def votes_of(session: AsyncSession, approval_ids: Sequence[str]) -> dict[str, list[ApprovalVote]]:
    """The votes on these approvals, in the order they were cast."""
    found: dict[str, list[ApprovalVote]] = {}
    if not approval_ids:
        return found
    query = select(ApprovalVote).where(ApprovalVote.approval_id.in_(approval_ids)).order_by(ApprovalVote.id)
    for vote in await session.scalars(query):
        found.setdefault(vote.approval_id, []).append(vote)
    return found


async def due_ids(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Pending approvals whose deadline passed or whose reminder is due (ids, oldest first)."""
    reminder_due = and_(
        Approval.remind_at.is_not(None),
        Approval.remind_at <= now,
        or_(Approval.reminded_stage.is_(None), Approval.reminded_stage < Approval.stage),
    )
    query = (
        select(Approval.id)
        .where(
            Approval.status == ApprovalStatus.PENDING,
            or_(and_(Approval.deadline_at.is_not(None), Approval.deadline_at <= now), reminder_due),
        )
        .order_by(Approval.requested_at, Approval.id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def lock_pending(session: AsyncSession, approval_id: str) -> Approval | None:
    """The approval, locked, if still pending; None when another process holds it (PostgreSQL:
    SKIP LOCKED, so two sweepers never both act on one) or it ended meanwhile."""
    query = (
        select(Approval)
        .where(Approval.id == approval_id, Approval.status == ApprovalStatus.PENDING)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)


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
