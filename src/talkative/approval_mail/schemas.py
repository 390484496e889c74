from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_ADDRESS = 254  # RFC 5321's longest path
# A plain address: something@domain.tld, no spaces, no display name, no header-breaking characters.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS_PATTERN = rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$"


class RecipientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=3, max_length=MAX_ADDRESS, pattern=ADDRESS_PATTERN
        ),
    ] = Field(description="Where the approval requests go (a plain address, no display name)")
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="Who decides through the link: recorded as the decider, matched against the "
        "approvers' subjects, and never mailed their own requests"
    )
    role: Literal["admin", "operator"] = Field(
        default="operator", description="The role the link acts as (matched against the approvers' roles)"
    )


class RecipientRead(BaseModel):
    id: str
    tenant_id: str
    address: str
    subject: str
    role: str
    created_by: str
    created_at: datetime
    cursor: str = Field(description="The stream position of the last event mailed, skipped or given up")


class RecipientPage(BaseModel):
    recipients: list[RecipientRead]


class MailDeliveryRead(BaseModel):
    delivery_id: str = Field(description="In the mail's Message-ID: the same on every attempt")
    recipient_id: str
    event_id: int
    event_type: str
    approval_id: str
    status: str = Field(description="pending, delivered, failed (given up) or skipped (already decided)")
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class MailDeliveryPage(BaseModel):
    """A recipient's mails, newest first."""

    deliveries: list[MailDeliveryRead]
