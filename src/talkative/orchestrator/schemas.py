"""What starts work: a message to an agent (or to whichever agent fits) and the command API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from talkative.input.types import JsonPayload

MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CommandType = Literal["start_task", "pause", "resume", "cancel", "request_delegate"]
COMMAND_TYPES: tuple[str, ...] = CommandType.__args__  # type: ignore[attr-defined]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: MessageText


class RoutedMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: MessageText
    agentId: Slug | None = None


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    agent_id: Slug
    run_id: Slug | None = None
    type: CommandType
    payload: JsonPayload = Field(default_factory=dict)


class CommandAccepted(BaseModel):
    command_id: str | None
    type: str
    run_id: str | None
    parent_run_id: str | None = None
    status: str
