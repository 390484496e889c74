from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from talkative.input.types import JsonPayload

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ClientMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    agent_id: Slug
    client_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)]


class ClientMessageRead(BaseModel):
    id: str
    tenant_id: str
    agent_id: str
    client_id: str
    text: str
    run_id: str
    run_status: str | None
    reply: str | None
    created_at: datetime


class ClientMessagePage(BaseModel):
    messages: list[ClientMessageRead]


class InternalActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    agent_id: Slug | None = None
    action: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    payload: JsonPayload = Field(default_factory=dict)


class InternalActionRead(BaseModel):
    id: str
    tenant_id: str
    agent_id: str | None
    operator_id: str
    action: str
    payload: dict[str, Any]
    created_at: datetime


class InternalActionPage(BaseModel):
    actions: list[InternalActionRead]
