from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_ADDRESS = 254  # RFC 5321's longest path
# A plain address: something@domain.tld, no spaces, no display name, no header-breaking characters.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS_PATTERN = rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$"


class RecipientCreate(BaseModel):
    """Enrols the caller: the link acts as the token's subject and role, in the token's tenant (a
    `subject`, `role` or `tenant_id` in the body is refused, 422)."""

    model_config = ConfigDict(extra="forbid")

    address: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=3, max_length=MAX_ADDRESS, pattern=ADDRESS_PATTERN
        ),
    ] = Field(description="Where the approval requests go (a plain address, no display name)")


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
