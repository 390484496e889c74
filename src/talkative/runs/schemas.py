"""Runs as the API shows them, the reply to a message, and externally reported events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from talkative.events.schemas import Event
from talkative.input.types import JsonPayload

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ExternalEventType = Literal[
    "state_changed", "tool_started", "tool_finished", "metric_recorded", "error_compacted"
]


class Action(BaseModel):
    type: str
    skill: str | None = None
    ok: bool | None = None
    detail: dict[str, Any] | None = None


NoticeCode = Literal["TASKS_UNMATCHED", "TASKS_DROPPED", "HEARTBEAT_EMPTY", "WORKFLOW_UNCHANGED"]


class Notice(BaseModel):
    """Something the operator should know about how the message was handled, said in words too."""

    code: NoticeCode
    message: str
    items: list[str] = Field(default_factory=list)  # the tasks concerned, when there are some
    count: int | None = None  # how many in all (`items` may hold only the first ones)


class MessageReply(BaseModel):
    agentId: str
    reply: str
    run_id: str
    run_status: str
    interpretation: dict[str, Any]
    workflowPatch: dict[str, Any]
    actions: list[Action]
    events: list[Event]
    unmatched_tasks: list[str] = Field(default_factory=list, description="Tasks no skill matched")
    dropped_tasks: list[str] = Field(
        default_factory=list, description="Tasks dropped over the per-message limit (the first ones)"
    )
    notices: list[Notice] = Field(default_factory=list)


class ExternalEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Slug | None = None
    agent_id: Slug
    run_id: Slug
    type: ExternalEventType
    message: Annotated[str, StringConstraints(max_length=2000)] = ""
    payload: JsonPayload = Field(default_factory=dict)


class StepRead(BaseModel):
    idx: int
    kind: str
    name: str
    status: str
    spec: dict[str, Any]
    result: dict[str, Any] | None
    node_id: str | None = None  # the node of the agent's workflow this step executes, if any
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None


class RunRecord(BaseModel):
    """One entry of a run's history: a command it received or an event it produced."""

    type: Literal["command", "event"]
    name: str
    at: datetime
    payload: dict[str, Any] | None = None
    id: str


class RunRead(BaseModel):
    run_id: str
    tenant_id: str
    agent_id: str
    kind: str
    input: str
    status: str
    subagent_state: str
    parent_run_id: str | None
    last_error: str | None
    reply: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    allowed_actions: list[str]
    plan: list[StepRead] | None = None
    steps: list[RunRecord] | None = None
    children: list[str] | None = None


class RunPage(BaseModel):
    runs: list[RunRead]


class Contracts(BaseModel):
    commands: list[str]
    events: list[str]
    run_statuses: list[str]
    subagent_states: list[str]
    step_kinds: list[str]
    event_types: list[str]
