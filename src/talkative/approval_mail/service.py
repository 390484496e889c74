"""Recipients and their mails: what is stored, which events a recipient is mailed, and how a
delivery's state moves (as webhooks/service.py: a cursor into the event log per recipient, one
pending delivery at a time, the cursor moved past an event in the transaction that settles it)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approval_mail.models import ApprovalEmailDelivery, ApprovalEmailRecipient
from talkative.approval_mail.schemas import MailDeliveryRead, RecipientCreate, RecipientRead
from talkative.db import utcnow
from talkative.errors import Conflict, InvalidInput, NotFound
from talkative.events import service as events_service
from talkative.events.models import EventRow
from talkative.events.positions import Position
from talkative.events.schemas import EventType
from talkative.webhooks import backoff
from talkative.webhooks.models import DeliveryStatus

MAX_ERROR = 300
PER_TENANT = 100
MAX_SUBJECT = 200  # the subject column's length
SKIPPED = "skipped"  # the approval was no longer pending when its mail was due
# The events that ask someone to decide; APPROVAL_DECIDED and APPROVAL_EXPIRED are not mailed.
MAILED = (EventType.APPROVAL_REQUESTED, EventType.APPROVAL_REMINDER, EventType.APPROVAL_ESCALATED)
# Today's rule when an event names no approvers: the tenant's operators and admins.
DEFAULT_APPROVERS: dict[str, list[str]] = {"roles": ["admin", "operator"], "subjects": []}


class RecipientNotFound(NotFound):
    code = "APPROVAL_RECIPIENT_NOT_FOUND"


class RecipientExists(Conflict):
    code = "APPROVAL_RECIPIENT_EXISTS"


class TooManyRecipients(Conflict):
    code = "TOO_MANY_APPROVAL_RECIPIENTS"


def may_decide(recipient: ApprovalEmailRecipient, payload: Mapping[str, Any]) -> bool:
    """Whether the recipient may decide the approval at the stage the event announces: their role
    or their subject is among its approvers, and it is not their own request."""
    approvers = payload.get("approvers")
    if not isinstance(approvers, Mapping):
        approvers = DEFAULT_APPROVERS
    roles, subjects = approvers.get("roles") or [], approvers.get("subjects") or []
    if payload.get("requested_by") is not None and payload.get("requested_by") == recipient.subject:
        return False
    return recipient.role in roles or recipient.subject in subjects


def cursor(recipient: ApprovalEmailRecipient) -> Position:
    return Position(recipient.cursor_xact, recipient.cursor_id)


def to_read(recipient: ApprovalEmailRecipient) -> RecipientRead:
    return RecipientRead(
        id=recipient.id,
        tenant_id=recipient.tenant_id,
        address=recipient.address,
        subject=recipient.subject,
        role=recipient.role,
        created_by=recipient.created_by,
        created_at=recipient.created_at,
        cursor=str(cursor(recipient)),
    )


def to_delivery_read(row: ApprovalEmailDelivery) -> MailDeliveryRead:
    return MailDeliveryRead(
        delivery_id=row.delivery_id,
        recipient_id=row.recipient_id,
        event_id=row.event_id,
        event_type=row.event_type,
        approval_id=row.approval_id,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
    )


async def create(
    session: AsyncSession, *, tenant_id: str, subject: str, role: str, body: RecipientCreate
) -> ApprovalEmailRecipient:
    """A new recipient, enrolled by `subject` itself (its link acts as that subject and role, so
    nobody can make a link that decides as someone else); it is mailed the approval events stored
    from now on."""
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(
            f"your token's subject is longer than {MAX_SUBJECT} characters; it cannot be a recipient",
            code="APPROVAL_RECIPIENT_SUBJECT_TOO_LONG",
        )
    count = await session.scalar(
        select(func.count())
        .select_from(ApprovalEmailRecipient)
        .where(ApprovalEmailRecipient.tenant_id == tenant_id)
    )
    if (count or 0) >= PER_TENANT:
        raise TooManyRecipients(
            f"a tenant may have at most {PER_TENANT} approval recipients; delete one first"
        )
    address = body.address.lower()
    taken = await session.scalar(
        select(ApprovalEmailRecipient.id).where(
            ApprovalEmailRecipient.tenant_id == tenant_id, ApprovalEmailRecipient.address == address
        )
    )
    if taken is not None:
        raise RecipientExists(f"{address} is already a recipient ({taken})")
    head = await events_service.head(session)
    recipient = ApprovalEmailRecipient(
        id=f"arc_{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        subject=subject,
        address=address,
        role=role,
        created_by=subject,
        created_at=utcnow(),
        cursor_xact=head.xact,
        cursor_id=head.id,
    )
    session.add(recipient)
    try:
        await session.flush()
    except IntegrityError:  # the same address added at the same moment by another request
        raise RecipientExists(f"{address} is already a recipient") from None
    return recipient


async def list_for(
    session: AsyncSession, *, tenant_id: str | None, subject: str | None
) -> list[ApprovalEmailRecipient]:
    """The recipients of `tenant_id` (None: every tenant's), only `subject`'s if one is given."""
    query = select(ApprovalEmailRecipient).order_by(
        ApprovalEmailRecipient.created_at, ApprovalEmailRecipient.id
    )
    if tenant_id is not None:
        query = query.where(ApprovalEmailRecipient.tenant_id == tenant_id)
    if subject is not None:
        query = query.where(ApprovalEmailRecipient.subject == subject)
    return list((await session.scalars(query)).all())


async def get(
    session: AsyncSession, *, tenant_id: str | None, subject: str | None, recipient_id: str
) -> ApprovalEmailRecipient:
    """The recipient, if the caller's tenant owns it and, when `subject` is given, it is that
    subject's (another tenant's or another subject's is not found)."""
    recipient = await session.get(ApprovalEmailRecipient, recipient_id)
    if (
        recipient is None
        or (tenant_id is not None and recipient.tenant_id != tenant_id)
        or (subject is not None and recipient.subject != subject)
    ):
        raise RecipientNotFound(f"no approval recipient {recipient_id}")
    return recipient


async def remove(session: AsyncSession, *, recipient: ApprovalEmailRecipient) -> None:
    await session.execute(
        delete(ApprovalEmailDelivery).where(ApprovalEmailDelivery.recipient_id == recipient.id)
    )
    await session.delete(recipient)


async def deliveries(
    session: AsyncSession, *, recipient: ApprovalEmailRecipient, limit: int
) -> list[ApprovalEmailDelivery]:
    query = (
        select(ApprovalEmailDelivery)
        .where(ApprovalEmailDelivery.recipient_id == recipient.id)
        .order_by(ApprovalEmailDelivery.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def recipient_ids(session: AsyncSession) -> list[str]:
    query = select(ApprovalEmailRecipient.id).order_by(ApprovalEmailRecipient.id)
    return list((await session.scalars(query)).all())


async def pending(
    session: AsyncSession, *, recipient: ApprovalEmailRecipient
) -> ApprovalEmailDelivery | None:
    query = (
        select(ApprovalEmailDelivery)
        .where(
            ApprovalEmailDelivery.recipient_id == recipient.id,
            ApprovalEmailDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(ApprovalEmailDelivery.id)
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def next_event(session: AsyncSession, *, recipient: ApprovalEmailRecipient) -> EventRow | None:
    """The first committed approval event to mail after the cursor, in the recipient's tenant."""
    return await events_service.first_after(
        session, position=cursor(recipient), tenant_id=recipient.tenant_id, types=[t.value for t in MAILED]
    )


def skip(recipient: ApprovalEmailRecipient, event: EventRow) -> None:
    """Moves the cursor past an event the recipient is not to be mailed."""
    _advance(recipient, Position(event.xact, event.id))


async def open_delivery(
    session: AsyncSession,
    *,
    recipient: ApprovalEmailRecipient,
    event: EventRow,
    approval_id: str,
    now: datetime,
) -> ApprovalEmailDelivery:
    row = ApprovalEmailDelivery(
        recipient_id=recipient.id,
        event_id=event.id,
        event_xact=event.xact,
        event_type=event.type,
        approval_id=approval_id[:64],
        status=DeliveryStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    await session.flush()
    return row


def _advance(recipient: ApprovalEmailRecipient, reached: Position) -> None:
    if reached > cursor(recipient):
        recipient.cursor_xact, recipient.cursor_id = reached


def _settle(recipient: ApprovalEmailRecipient, delivery: ApprovalEmailDelivery, status: str) -> None:
    delivery.status = status
    delivery.next_attempt_at = None
    _advance(recipient, Position(delivery.event_xact, delivery.event_id))


def record_success(
    recipient: ApprovalEmailRecipient, delivery: ApprovalEmailDelivery, *, now: datetime
) -> None:
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.last_error = None
    delivery.delivered_at = now
    _settle(recipient, delivery, DeliveryStatus.DELIVERED)


def record_skipped(recipient: ApprovalEmailRecipient, delivery: ApprovalEmailDelivery, *, why: str) -> None:
    delivery.last_error = why[:MAX_ERROR]
    _settle(recipient, delivery, SKIPPED)


def give_up(recipient: ApprovalEmailRecipient, delivery: ApprovalEmailDelivery, *, why: str) -> None:
    delivery.last_error = why[:MAX_ERROR]
    _settle(recipient, delivery, DeliveryStatus.FAILED)


def record_failure(
    recipient: ApprovalEmailRecipient,
    delivery: ApprovalEmailDelivery,
    *,
    error: str,
    now: datetime,
    policy: backoff.RetryPolicy,
    wait_s: float,
) -> bool:
    """Records a failed send; returns True if the delivery is now given up (and the cursor moved)."""
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.last_error = error[:MAX_ERROR]
    age_s = (now - delivery.first_attempt_at).total_seconds()
    if backoff.gives_up(policy, attempts=delivery.attempts, age_s=age_s):
        _settle(recipient, delivery, DeliveryStatus.FAILED)
        return True
    delivery.next_attempt_at = now + timedelta(seconds=wait_s)
    return False
