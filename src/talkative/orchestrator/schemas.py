from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from talkative.events.schemas import Event

MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: MessageText


class RoutedMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: MessageText
    agentId: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class Action(BaseModel):
    type: str
    skill: str | None = None
    ok: bool | None = None
    detail: dict[str, Any] | None = None


class MessageReply(BaseModel):
    agentId: str
    reply: str
    run_id: str
    run_status: str
    interpretation: dict[str, Any]
    workflowPatch: dict[str, Any]
    actions: list[Action]
    events: list[Event]
