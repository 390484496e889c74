"""The delivery loop (run by the cluster's leader, like event retention): each subscription's
events, read from the stored log after its cursor, POSTed in order, signed, and retried.

One delivery per subscription is in flight at a time, so a receiver sees its events in stream
order; a failing receiver holds back only its own subscription (head-of-line) until the retry
policy gives its delivery up. Subscriptions are served concurrently, a few at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from talkative.approvals.links import approval_url
from talkative.db import db_now
from talkative.events.models import EventRow
from talkative.observability.metrics import WEBHOOK_DELIVERIES
from talkative.runtime import Runtime
from talkative.settings import Settings
from talkative.webhooks import backoff, service, signing, targets
from talkative.webhooks.models import WebhookSubscription

log = logging.getLogger("talkative.webhooks")
BATCH = 100  # deliveries per subscription per pass, at most (the next pass goes on)
CONCURRENT = 8  # subscriptions served at once
EXCERPT_BYTES = 256  # of the receiver's answer kept in the delivery log
USER_AGENT = "Talkative-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    excerpt: str | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Attempt:
    """What one POST needs, read in a transaction and used after it."""

    subscription_id: str
    delivery_id: str
    target: targets.Target
    secret: str
    body: bytes


def policy_for(settings: Settings) -> backoff.RetryPolicy:
    return backoff.RetryPolicy(
        base_s=settings.webhooks_backoff_base_s,
        cap_s=settings.webhooks_backoff_cap_s,
        max_attempts=settings.webhooks_max_attempts,
        max_age_s=settings.webhooks_max_age_s,
    )


def body_of(event: EventRow, base_url: str) -> bytes:
    """The JSON a receiver gets: the event's envelope (no secrets: events never hold any). An
    approval event's payload also carries `approval_url`, the approval's page (for a chat bot to
    link; whoever opens it signs in as usual: it holds no token)."""
    payload = event.payload
    approval_id = payload.get("approval_id") if isinstance(payload, dict) else None
    if event.type.startswith("APPROVAL_") and isinstance(approval_id, str):
        payload = {**payload, "approval_url": approval_url(base_url, approval_id)}
    document: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "tenant_id": event.tenant_id,
        "agent_id": event.agent_id,
        "run_id": event.run_id,
        "payload": payload,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


async def delivery_loop(runtime: Runtime) -> None:
    settings = runtime.settings
    timeout = httpx.Timeout(settings.webhooks_timeout_s)
    # No redirects (a 3xx is a failed attempt: the receiver's URL is the one subscribed), no proxy
    # or netrc from the environment.
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as http:
        while await runtime.pause(settings.webhooks_poll_s):
            try:
                await deliver_pass(runtime, http)
            except Exception:  # the loop must outlive any one failure, and say what it was
                log.exception("webhook delivery pass failed")


async def deliver_pass(
    runtime: Runtime, http: httpx.AsyncClient, rand: Callable[[], float] = random.random
) -> None:
    async with runtime.sessionmaker() as session:
        ids = await service.subscription_ids(session)
    gate = asyncio.Semaphore(CONCURRENT)

    async def one(subscription_id: str) -> None:
        async with gate:
            try:
                await deliver_subscription(runtime, http, subscription_id, rand)
            except Exception:
                log.exception("webhook %s: delivery failed", subscription_id)

    await asyncio.gather(*(one(i) for i in ids))


async def deliver_subscription(
    runtime: Runtime, http: httpx.AsyncClient, subscription_id: str, rand: Callable[[], float]
) -> None:
    """Delivers the subscription's due events in order until one fails, none is left, or a batch."""
    for _ in range(BATCH):
        if runtime.stopping.is_set():
            return
        attempt = await _next_attempt(runtime, subscription_id)
        if attempt is None:
            return
        outcome = await post(http, attempt, runtime.settings)
        if not await _record(runtime, attempt, outcome, rand):
            return


async def _next_attempt(runtime: Runtime, subscription_id: str) -> Attempt | None:
    """The delivery due now (opening one for the next event if none is in progress), or None."""
    async with runtime.sessionmaker() as session, session.begin():
        sub = await session.get(WebhookSubscription, subscription_id)
        if sub is None:
            return None
        # The database's clock: after a change of leader, retries stay due when they were due.
        now = await db_now(session)
        while True:
            delivery = await service.pending(session, sub=sub)
            if delivery is None:
                found = await service.next_event(session, sub=sub)
                if found is None:
                    return None
                delivery = await service.open_delivery(session, sub=sub, event=found, now=now)
            elif delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
                return None
            event = await service.event_of(session, delivery=delivery)
            if event is not None:
                break
            delivery.last_error = "the event was removed by retention before it could be delivered"
            service.give_up(sub, delivery)
            await session.flush()
        return Attempt(
            subscription_id=sub.id,
            delivery_id=delivery.delivery_id,
            target=targets.parse(sub.url),
            secret=sub.secret,
            body=body_of(event, runtime.settings.base_url),
        )


async def post(http: httpx.AsyncClient, attempt: Attempt, settings: Settings) -> Outcome:
    """One signed POST to the checked address; never raises for the receiver's failures."""
    try:
        addresses = await targets.resolve(attempt.target, settings.webhooks_allow_private)
    except targets.TargetRefused as exc:
        return Outcome(None, None, f"refused: {exc}")
    timestamp = int(time.time())
    headers = {
        "Host": attempt.target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Talkative-Webhook-Id": attempt.delivery_id,
        "Talkative-Webhook-Timestamp": str(timestamp),
        "Talkative-Webhook-Signature": signing.header(attempt.secret, timestamp, attempt.body),
    }
    extensions = {"sni_hostname": attempt.target.host} if attempt.target.scheme == "https" else {}
    url = attempt.target.url_at(addresses[0])
    try:
        async with asyncio.timeout(settings.webhooks_timeout_s):
            request = http.build_request(
                "POST", url, content=attempt.body, headers=headers, extensions=extensions
            )
            response = await http.send(request, stream=True)
            try:
                excerpt = await _excerpt(response)
            finally:
                await response.aclose()
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        return Outcome(None, None, _describe(exc))
    error = None if 200 <= response.status_code < 300 else f"answered HTTP {response.status_code}"
    return Outcome(response.status_code, excerpt, error)


async def _excerpt(response: httpx.Response) -> str:
    """The start of the answer only: a receiver's body is not ours to keep."""
    kept = b""
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= EXCERPT_BYTES:
            break
    return kept[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def _describe(exc: BaseException) -> str:
    """Why the POST failed, in words that hold no URL (it may carry a token) and no secret."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return f"request failed ({type(exc).__name__})"


async def _record(runtime: Runtime, attempt: Attempt, outcome: Outcome, rand: Callable[[], float]) -> bool:
    """Stores the outcome; returns whether the subscription may go on to its next event."""
    policy = policy_for(runtime.settings)
    async with runtime.sessionmaker() as session, session.begin():
        sub = await session.get(WebhookSubscription, attempt.subscription_id)
        delivery = None if sub is None else await service.pending(session, sub=sub)
        if sub is None or delivery is None or delivery.delivery_id != attempt.delivery_id:
            return False  # deleted meanwhile
        now = await db_now(session)
        if outcome.ok:
            assert outcome.status_code is not None
            service.record_success(
                sub, delivery, status_code=outcome.status_code, excerpt=outcome.excerpt or "", now=now
            )
            WEBHOOK_DELIVERIES.labels(outcome="delivered").inc()
            return True
        wait_s = backoff.delay_s(policy, delivery.attempts + 1, rand)
        gave_up = service.record_failure(
            sub,
            delivery,
            status_code=outcome.status_code,
            error=outcome.error or "failed",
            excerpt=outcome.excerpt,
            now=now,
            policy=policy,
            wait_s=wait_s,
        )
        attempts = delivery.attempts
    if gave_up:
        WEBHOOK_DELIVERIES.labels(outcome="failed").inc()
        log.warning(
            "webhook %s: delivery %s given up after %d attempts (%s)",
            attempt.subscription_id,
            attempt.delivery_id,
            attempts,
            outcome.error,
        )
        return True
    WEBHOOK_DELIVERIES.labels(outcome="retry").inc()
    log.info(
        "webhook %s: delivery %s failed (%s); next attempt in %.1fs",
        attempt.subscription_id,
        attempt.delivery_id,
        outcome.error,
        wait_s,
    )
    return False
