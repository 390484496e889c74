"""Subscriptions and their deliveries: what is stored, and how a delivery's state moves.

A subscription's cursor is the stream position (events/positions.py) of the last event it has
acknowledged or given up; the next event to deliver is the first of its tenant and types after it.
A delivery row is opened before the first POST and stays `pending` until the receiver answers 2xx
(`delivered`) or the retry policy gives up (`failed`); either moves the cursor past its event, in
the same transaction. A crash after a POST and before that transaction leaves the row pending, and
the same delivery is sent again: at least once, never lost.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import utcnow
from talkative.errors import Conflict, InvalidInput, NotFound
from talkative.events import service as events_service
from talkative.events.models import EventRow
from talkative.events.positions import Position
from talkative.webhooks import backoff, signing, targets
from talkative.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from talkative.webhooks.schemas import DeliveryRead, WebhookCreate, WebhookRead

MAX_ERROR = 300


class WebhookNotFound(NotFound):
    code = "WEBHOOK_NOT_FOUND"


class TooManyWebhooks(Conflict):
    code = "TOO_MANY_WEBHOOKS"


def to_read(sub: WebhookSubscription) -> WebhookRead:
    return WebhookRead(
        id=sub.id,
        tenant_id=sub.tenant_id,
        url=sub.url,
        description=sub.description,
        event_types=list(sub.event_types),
        created_by=sub.created_by,
        created_at=sub.created_at,
        cursor=str(cursor(sub)),
    )


def to_delivery_read(row: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead(
        delivery_id=row.delivery_id,
        event_id=row.event_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        response_excerpt=row.response_excerpt,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
    )


def cursor(sub: WebhookSubscription) -> Position:
    return Position(sub.cursor_xact, sub.cursor_id)


async def create(
    session: AsyncSession,
    *,
    tenant_id: str,
    created_by: str,
    body: WebhookCreate,
    allow_private: Sequence[str],
    per_tenant: int,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret; it receives the events stored from now on."""
    try:
        await targets.resolve(targets.parse(body.url), allow_private)
    except targets.TargetRefused as exc:
        raise InvalidInput(f"webhook URL refused: {exc}", code="WEBHOOK_URL_REFUSED") from None
    count = await session.scalar(
        select(func.count())
        .select_from(WebhookSubscription)
        .where(WebhookSubscription.tenant_id == tenant_id)
    )
    if (count or 0) >= per_tenant:
        raise TooManyWebhooks(f"a tenant may have at most {per_tenant} webhooks; delete one first")
    head = await events_service.head(session)
    secret = signing.new_secret()
    sub = WebhookSubscription(
        id=f"wh_{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        url=body.url,
        description=body.description,
        event_types=sorted({str(t) for t in body.event_types}),
        secret=secret,
        created_by=created_by,
        created_at=utcnow(),
        cursor_xact=head.xact,
        cursor_id=head.id,
    )
    session.add(sub)
    await session.flush()
    return sub, secret


async def list_for(session: AsyncSession, *, tenant_id: str | None) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    if tenant_id is not None:
        query = query.where(WebhookSubscription.tenant_id == tenant_id)
    return list((await session.scalars(query)).all())


async def get(session: AsyncSession, *, tenant_id: str | None, webhook_id: str) -> WebhookSubscription:
    """The subscription, if the caller's tenant owns it (another tenant's is not found)."""
    sub = await session.get(WebhookSubscription, webhook_id)
    if sub is None or (tenant_id is not None and sub.tenant_id != tenant_id):
        raise WebhookNotFound(f"no webhook {webhook_id}")
    return sub


async def remove(session: AsyncSession, *, sub: WebhookSubscription) -> None:
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
    await session.delete(sub)


async def deliveries(session: AsyncSession, *, sub: WebhookSubscription, limit: int) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def subscription_ids(session: AsyncSession) -> list[str]:
    return list(
        (await session.scalars(select(WebhookSubscription.id).order_by(WebhookSubscription.id))).all()
    )


async def pending(session: AsyncSession, *, sub: WebhookSubscription) -> WebhookDelivery | None:
    """The subscription's delivery in progress (at most one: deliveries go out in order)."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == DeliveryStatus.PENDING)
        .order_by(WebhookDelivery.id)
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def next_event(session: AsyncSession, *, sub: WebhookSubscription) -> EventRow | None:
    """The first committed event after the cursor, in the subscription's tenant and types."""
    return await events_service.first_after(
        session, position=cursor(sub), tenant_id=sub.tenant_id, types=sub.event_types
    )


async def event_of(session: AsyncSession, *, delivery: WebhookDelivery) -> EventRow | None:
    """The delivery's event; None if retention removed it meanwhile."""
    return await session.get(EventRow, delivery.event_id)


async def open_delivery(
    session: AsyncSession, *, sub: WebhookSubscription, event: EventRow, now: datetime
) -> WebhookDelivery:
    row = WebhookDelivery(
        subscription_id=sub.id,
        event_id=event.id,
        event_xact=event.xact,
        event_type=event.type,
        status=DeliveryStatus.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    await session.flush()
    return row


def _advance(sub: WebhookSubscription, delivery: WebhookDelivery) -> None:
    """Moves the cursor past the delivery's event (never backwards)."""
    reached = Position(delivery.event_xact, delivery.event_id)
    if reached > cursor(sub):
        sub.cursor_xact, sub.cursor_id = reached


def record_success(
    sub: WebhookSubscription, delivery: WebhookDelivery, *, status_code: int, excerpt: str, now: datetime
) -> None:
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.status = DeliveryStatus.DELIVERED
    delivery.last_status_code = status_code
    delivery.last_error = None
    delivery.response_excerpt = excerpt[:MAX_ERROR]
    delivery.delivered_at = now
    delivery.next_attempt_at = None
    _advance(sub, delivery)


def record_failure(
    sub: WebhookSubscription,
    delivery: WebhookDelivery,
    *,
    status_code: int | None,
    error: str,
    excerpt: str | None,
    now: datetime,
    policy: backoff.RetryPolicy,
    wait_s: float,
) -> bool:
    """Records a failed attempt; returns True if the delivery is now given up (and the cursor moved)."""
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.last_status_code = status_code
    delivery.last_error = error[:MAX_ERROR]
    delivery.response_excerpt = None if excerpt is None else excerpt[:MAX_ERROR]
    age_s = (now - delivery.first_attempt_at).total_seconds()
    if backoff.gives_up(policy, attempts=delivery.attempts, age_s=age_s):
        give_up(sub, delivery)
        return True
    delivery.next_attempt_at = now + timedelta(seconds=wait_s)
    return False


def give_up(sub: WebhookSubscription, delivery: WebhookDelivery) -> None:
    delivery.status = DeliveryStatus.FAILED
    delivery.next_attempt_at = None
    _advance(sub, delivery)
