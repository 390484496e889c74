from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from talkative.db import Base, UTCDateTime, utcnow

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
EventId = BigInteger().with_variant(Integer(), "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class EventRow(Base):
    """One domain event. Its stream position is (xact, id): see events/positions.py."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The storing transaction's id on PostgreSQL (a column default set by the migration), 0 on SQLite.
    xact: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    type: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_events_tenant_agent_id", "tenant_id", "agent_id", "id"),
        # An agent's history in stream order (its page of the event log, paged backwards).
        Index("ix_events_tenant_agent_position", "tenant_id", "agent_id", "xact", "id"),
        Index("ix_events_tenant_position", "tenant_id", "xact", "id"),
        Index("ix_events_position", "xact", "id"),
        Index("ix_events_run_id_id", "run_id", "id"),
    )
