"""Runs as the API shows them, the reply to a message, and externally reported events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from talkative.approvals.schemas import ApprovalRead
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
    spec: dict[str, Any] = Field(description="What the step does: skill and command, task, target agent")
    result: dict[str, Any] | None = Field(description="Its outputs once ended (a tool's exit code, output)")
    attempts: int = Field(description="How many times it was started (a worker that died starts it again)")
    node_id: str | None = Field(
        default=None, description="The node of the agent's workflow this step executes, if any"
    )
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None = Field(default=None, description="From its last start to its end")
    error: str | None = Field(default=None, description="Why it failed, when it did")


class RunRecord(BaseModel):
    """One entry of a run's history: a command it received or an event it produced."""

    type: Literal["command", "event"]
    name: str
    at: datetime
    payload: dict[str, Any] | None = None
    id: str


class RunLink(BaseModel):
    """Another run, as a link: its parent or one of its children."""

    run_id: str
    agent_id: str
    kind: str
    status: str
    created_at: datetime
    finished_at: datetime | None


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
    # The detail (GET /orchestrator/runs/{id}) only:
    plan: list[StepRead] | None = Field(default=None, description="Every step, in order, with its status")
    steps: list[RunRecord] | None = Field(
        default=None, description="Its history: commands and events in time order (the newest 1000 events)"
    )
    children: list[str] | None = Field(default=None, description="The ids of its child runs")
    started_at: datetime | None = Field(default=None, description="When its first step started")
    duration_s: float | None = Field(default=None, description="From creation to its end, once ended")
    approvals: list[ApprovalRead] | None = Field(
        default=None, description="Its approval requests and their decisions, oldest first"
    )
    parent: RunLink | None = Field(default=None, description="The run that delegated to it")
    child_runs: list[RunLink] | None = Field(default=None, description="The runs it delegated, oldest first")


class RunPage(BaseModel):
    """Runs, newest last."""

    runs: list[RunRead]
    has_more: bool = Field(default=False, description="Whether older runs match: ask with `before`")
    next_before: str | None = Field(
        default=None, description="The cursor to pass as `before` for the page of older runs"
    )


class Contracts(BaseModel):
    commands: list[str]
    events: list[str]
    run_statuses: list[str]
    run_kinds: list[str]
    subagent_states: list[str]
    step_kinds: list[str]
    event_types: list[str]
