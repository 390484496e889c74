from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow
from talkative.events.models import EventId, JsonDoc


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not acknowledged yet: being tried, or waiting for its next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # given up (attempts or age); the cursor moved past it


class WebhookSubscription(Base):
    """A URL that receives a tenant's events of some types, and how far it has acknowledged them.

    The secret is kept as given to the subscriber: signing needs it (an HMAC key cannot be hashed
    away like a password); it leaves the server once, in the answer that created the subscription."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    event_types: Mapped[list[str]] = mapped_column(JsonDoc)
    secret: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The stream position (events/positions.py) of the last event acknowledged or given up.
    cursor_xact: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    cursor_id: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))

    __table_args__ = (Index("ix_webhook_subscriptions_tenant_created", "tenant_id", "created_at"),)


class WebhookDelivery(Base):
    """One event for one subscription: its attempts so far and how the last one went."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_xact: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    event_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    response_excerpt: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_subscription_status", "subscription_id", "status"),
    )

    @property
    def delivery_id(self) -> str:
        """What the receiver dedupes on: the same for every attempt of this event to this URL."""
        return f"{self.subscription_id}.{self.event_id}"
