"""The mail loop (run by the cluster's leader, beside webhook delivery): each recipient's approval
events, read from the stored log after its cursor, mailed in order with a signed one-click link,
and retried with the webhooks' backoff while the SMTP server fails.

At least once: a crash between a send and the transaction that records it sends the same mail
again, with the same Message-ID (`<recipient id>.<event id>@talkative`) and `Talkative-Event-Id`.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.approval_mail import mail, service
from talkative.approval_mail.models import ApprovalEmailDelivery, ApprovalEmailRecipient
from talkative.approvals.links import approval_url, signed_link
from talkative.approvals.models import Approval, ApprovalStatus
from talkative.auth.principal import Role
from talkative.auth.secrets import AuthConfig
from talkative.auth.tokens import mint_approval_token
from talkative.db import db_now
from talkative.events.models import EventRow
from talkative.observability.metrics import APPROVAL_MAILS
from talkative.runtime import Runtime
from talkative.settings import Settings
from talkative.webhooks import backoff
from talkative.webhooks.delivery import policy_for

log = logging.getLogger("talkative.approval_mail")
BATCH = 100  # mails per recipient per pass, at most


@dataclass(frozen=True)
class Attempt:
    recipient_id: str
    delivery_id: str
    message: EmailMessage


def enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


async def delivery_loop(runtime: Runtime, auth: AuthConfig) -> None:
    settings = runtime.settings
    if not settings.public_url:
        log.error(
            "approval emails are NOT sent: TALKATIVE_SMTP_HOST is set but TALKATIVE_PUBLIC_URL is not "
            "(the mails link to the approval page at that address); set it and restart"
        )
        return
    log.info("approval emails: sending through %s:%d", settings.smtp_host, settings.smtp_port)
    while await runtime.pause(settings.webhooks_poll_s):
        try:
            await deliver_pass(runtime, auth)
        except Exception:  # the loop must outlive any one failure, and say what it was
            log.exception("approval mail pass failed")


async def deliver_pass(runtime: Runtime, auth: AuthConfig, rand: Callable[[], float] = random.random) -> None:
    async with runtime.sessionmaker() as session:
        ids = await service.recipient_ids(session)
    for recipient_id in ids:
        if runtime.stopping.is_set():
            return
        try:
            await deliver_recipient(runtime, auth, recipient_id, rand)
        except Exception:
            log.exception("approval recipient %s: mail failed", recipient_id)


async def deliver_recipient(
    runtime: Runtime, auth: AuthConfig, recipient_id: str, rand: Callable[[], float]
) -> None:
    """Mails the recipient's due events in order until one fails, none is left, or a batch."""
    for _ in range(BATCH):
        if runtime.stopping.is_set():
            return
        attempt = await _next_attempt(runtime, auth, recipient_id)
        if attempt is None:
            return
        error: str | None = None
        try:
            async with asyncio.timeout(runtime.settings.smtp_timeout_s * 3):
                await asyncio.to_thread(mail.send, runtime.settings, attempt.message)
        except Exception as exc:
            error = mail.describe(exc)
        if not await _record(runtime, attempt, error, rand):
            return


async def _next_attempt(runtime: Runtime, auth: AuthConfig, recipient_id: str) -> Attempt | None:
    """The mail due now (opening a delivery for the next event to mail if none is in progress)."""
    async with runtime.sessionmaker() as session, session.begin():
        recipient = await session.get(ApprovalEmailRecipient, recipient_id)
        if recipient is None:
            return None
        now = await db_now(session)  # after a change of leader, retries stay due when they were due
        while True:
            delivery = await service.pending(session, recipient=recipient)
            if delivery is None:
                event = await service.next_event(session, recipient=recipient)
                if event is None:
                    return None
                approval_id = event.payload.get("approval_id")
                if not isinstance(approval_id, str) or not service.may_decide(recipient, event.payload):
                    service.skip(recipient, event)
                    continue
                delivery = await service.open_delivery(
                    session, recipient=recipient, event=event, approval_id=approval_id, now=now
                )
            elif delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
                return None
            message = await _message(session, runtime.settings, auth, recipient, delivery, now)
            if message is not None:
                return Attempt(recipient.id, delivery.delivery_id, message)
            await session.flush()


async def _message(
    session: AsyncSession,
    settings: Settings,
    auth: AuthConfig,
    recipient: ApprovalEmailRecipient,
    delivery: ApprovalEmailDelivery,
    now: datetime,
) -> EmailMessage | None:
    """The mail of a delivery; None when there is nothing to send any more (the delivery settled)."""
    event = await session.get(EventRow, delivery.event_id)
    if event is None:
        service.give_up(
            recipient, delivery, why="the event was removed by retention before it could be mailed"
        )
        return None
    approval = await session.get(Approval, delivery.approval_id)
    if approval is None or approval.tenant_id != recipient.tenant_id:
        _skip(recipient, delivery, why="the approval no longer exists")
        return None
    if approval.status != ApprovalStatus.PENDING:
        _skip(recipient, delivery, why=f"the approval was already {approval.status}")
        return None
    deadline = _deadline(event.payload.get("deadline_at"))
    expires = now + timedelta(seconds=settings.approval_link_ttl_s)
    if deadline is not None:
        if deadline <= now:
            _skip(recipient, delivery, why="the approval's deadline has passed")
            return None
        expires = min(expires, deadline)
    assert settings.public_url is not None
    token = (
        ""
        if auth.disabled
        else mint_approval_token(
            secret=auth.secret,
            sub=recipient.subject,
            role=Role(recipient.role),
            tenant_id=recipient.tenant_id,
            approval_id=approval.id,
            expires_at=expires,
        )
    )
    # Without authentication (a local development server) the page needs no token.
    link = (
        signed_link(settings.public_url, approval.id, token)
        if token
        else approval_url(settings.public_url, approval.id)
    )
    requested_by = event.payload.get("requested_by")
    request = mail.Request(
        approval_id=approval.id,
        event_id=event.id,
        event_type=event.type,
        tenant_id=approval.tenant_id,
        agent_id=approval.agent_id,
        run_id=approval.run_id,
        reason=approval.reason,
        requested_by=requested_by if isinstance(requested_by, str) else None,
        deadline_at=deadline,
        link=link,
        link_expires_at=expires,
    )
    return mail.compose(
        request, sender=settings.mail_from, to=recipient.address, delivery_id=delivery.delivery_id
    )


def _skip(recipient: ApprovalEmailRecipient, delivery: ApprovalEmailDelivery, *, why: str) -> None:
    service.record_skipped(recipient, delivery, why=why)
    APPROVAL_MAILS.labels(outcome="skipped").inc()


def _deadline(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


async def _record(runtime: Runtime, attempt: Attempt, error: str | None, rand: Callable[[], float]) -> bool:
    """Stores the outcome; returns whether the recipient may go on to its next event."""
    policy: backoff.RetryPolicy = policy_for(runtime.settings)
    async with runtime.sessionmaker() as session, session.begin():
        recipient = await session.get(ApprovalEmailRecipient, attempt.recipient_id)
        delivery = None if recipient is None else await service.pending(session, recipient=recipient)
        if recipient is None or delivery is None or delivery.delivery_id != attempt.delivery_id:
            return False  # removed meanwhile
        now = await db_now(session)
        if error is None:
            service.record_success(recipient, delivery, now=now)
            APPROVAL_MAILS.labels(outcome="delivered").inc()
            return True
        wait_s = backoff.delay_s(policy, delivery.attempts + 1, rand)
        gave_up = service.record_failure(
            recipient, delivery, error=error, now=now, policy=policy, wait_s=wait_s
        )
        attempts = delivery.attempts
    if gave_up:
        APPROVAL_MAILS.labels(outcome="failed").inc()
        log.warning("approval mail %s given up after %d attempts (%s)", attempt.delivery_id, attempts, error)
        return True
    APPROVAL_MAILS.labels(outcome="retry").inc()
    log.info("approval mail %s failed (%s); next attempt in %.1fs", attempt.delivery_id, error, wait_s)
    return False
