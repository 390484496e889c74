from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from talkative.events.schemas import EventType

MAX_URL = 2048
MAX_TYPES = 16


class WebhookEventType(StrEnum):
    """The event types a subscription may receive (a subset of events/schemas.py's EventType)."""

    RUN_COMPLETED = EventType.RUN_COMPLETED.value  # a run finished
    RUN_FAILED = EventType.RUN_FAILED.value
    RUN_REJECTED = EventType.RUN_REJECTED.value  # finished with a step rejected by a human
    RUN_CANCELLED = EventType.RUN_CANCELLED.value
    RUN_WAITING_APPROVAL = EventType.RUN_WAITING_APPROVAL.value
    APPROVAL_REQUESTED = EventType.APPROVAL_REQUESTED.value
    APPROVAL_DECIDED = EventType.APPROVAL_DECIDED.value
    APPROVAL_REMINDER = EventType.APPROVAL_REMINDER.value  # still pending, its deadline is near
    APPROVAL_ESCALATED = EventType.APPROVAL_ESCALATED.value  # passed on to the next stage's approvers
    APPROVAL_EXPIRED = EventType.APPROVAL_EXPIRED.value  # nobody decided before its deadline
    BUDGET_EXCEEDED = EventType.BUDGET_EXCEEDED.value


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL)] = Field(
        description="http or https; loopback and private addresses are refused unless the server allows them"
    )
    event_types: list[WebhookEventType] = Field(min_length=1, max_length=MAX_TYPES)
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class WebhookRead(BaseModel):
    """A subscription as anyone in its tenant may see it: never its secret."""

    id: str
    tenant_id: str
    url: str
    description: str
    event_types: list[str]
    created_by: str
    created_at: datetime
    cursor: str = Field(description="The stream position of the last event acknowledged or given up")


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="The signing secret (HMAC-SHA256 key): shown in this answer only, never again"
    )


class WebhookPage(BaseModel):
    webhooks: list[WebhookRead]


class DeliveryRead(BaseModel):
    delivery_id: str = Field(description="The Talkative-Webhook-Id header: the same on every attempt")
    event_id: int
    event_type: str
    status: str = Field(description="pending, delivered or failed (given up)")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    response_excerpt: str | None = Field(description="The start of the receiver's last answer, bounded")
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    """A subscription's deliveries, newest first."""

    deliveries: list[DeliveryRead]
