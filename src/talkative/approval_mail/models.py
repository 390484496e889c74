from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow
from talkative.events.models import EventId


class ApprovalEmailRecipient(Base):
    """An address that is mailed the tenant's approval requests it may decide, and how far it has
    been served in the event log (like a webhook subscription's cursor)."""

    __tablename__ = "approval_email_recipients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))  # who decides through the link (the token's sub)
    address: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))  # admin or operator: what the link acts as
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The stream position (events/positions.py) of the last event mailed, skipped or given up.
    cursor_xact: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    cursor_id: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))

    __table_args__ = (
        Index("ix_approval_email_recipients_tenant_created", "tenant_id", "created_at"),
        UniqueConstraint("tenant_id", "address"),
    )


class ApprovalEmailDelivery(Base):
    """One approval event mailed to one recipient: its attempts so far and how the last one went."""

    __tablename__ = "approval_email_deliveries"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    recipient_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("approval_email_recipients.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_xact: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    event_type: Mapped[str] = mapped_column(String(64))
    approval_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered or failed (webhooks' statuses)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("recipient_id", "event_id"),
        Index("ix_approval_email_deliveries_recipient_status", "recipient_id", "status"),
    )

    @property
    def delivery_id(self) -> str:
        """The same for every attempt of this event to this recipient (the mail's Message-ID)."""
        return f"{self.recipient_id}.{self.event_id}"
