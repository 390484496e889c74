"""The one event envelope every domain emits, and the names of the event types."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class EventType(StrEnum):
    AGENT_CREATED = "AGENT_CREATED"
    AGENT_STARTED = "AGENT_STARTED"
    AGENT_STOPPED = "AGENT_STOPPED"
    AGENT_UPDATED = "AGENT_UPDATED"  # its settings changed (PATCH /agents/{id}); payload: what changed
    AGENT_DELETED = "AGENT_DELETED"
    SKILL_ATTACHED = "SKILL_ATTACHED"
    SKILL_UNTRUSTED = "SKILL_UNTRUSTED"  # not run: changed since an admin attached it, or never attached
    MESSAGE_RECEIVED = "MESSAGE_RECEIVED"
    INTERPRETATION_RESULT = "INTERPRETATION_RESULT"
    WORKFLOW_PATCH_PROPOSED = "WORKFLOW_PATCH_PROPOSED"
    WORKFLOW_PATCH_APPLIED = "WORKFLOW_PATCH_APPLIED"
    WORKFLOW_VERSION_CREATED = "WORKFLOW_VERSION_CREATED"
    TOOL_RUN_STARTED = "TOOL_RUN_STARTED"
    TOOL_RUN_FINISHED = "TOOL_RUN_FINISHED"
    METRIC_RECORDED = "METRIC_RECORDED"
    HEARTBEAT_TICK = "HEARTBEAT_TICK"
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    APPROVAL_DECIDED = "APPROVAL_DECIDED"
    APPROVAL_REMINDER = "APPROVAL_REMINDER"
    APPROVAL_ESCALATED = "APPROVAL_ESCALATED"
    APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
    STEP_REJECTED = "STEP_REJECTED"
    TASK_EXECUTED = "TASK_EXECUTED"
    DELEGATION_STARTED = "DELEGATION_STARTED"
    DELEGATION_FINISHED = "DELEGATION_FINISHED"
    EXTERNAL_EVENT = "EXTERNAL_EVENT"
    PROMPT_ACTIVATED = "PROMPT_ACTIVATED"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    # A tenant's MCP servers (mcp_skills/); payloads name the server and tool, never credentials.
    MCP_SERVER_REGISTERED = "MCP_SERVER_REGISTERED"
    MCP_SERVER_REMOVED = "MCP_SERVER_REMOVED"
    MCP_TOOL_CHANGED = "MCP_TOOL_CHANGED"  # its listing no longer has the approved digest: not called
    MCP_TOOL_APPROVED = "MCP_TOOL_APPROVED"
    # A run's status changes, one per reducer action (runs/reducer.py).
    RUN_STARTED = "RUN_STARTED"
    RUN_PAUSED = "RUN_PAUSED"
    RUN_RESUMED = "RUN_RESUMED"
    RUN_CANCELLED = "RUN_CANCELLED"
    RUN_WAITING_APPROVAL = "RUN_WAITING_APPROVAL"
    RUN_APPROVAL_DECIDED = "RUN_APPROVAL_DECIDED"
    RUN_COMPLETED = "RUN_COMPLETED"
    RUN_REJECTED = "RUN_REJECTED"
    RUN_FAILED = "RUN_FAILED"
    RUN_REQUEUED = "RUN_REQUEUED"


class NewEvent(BaseModel):
    """An event about to be stored (the store assigns id and timestamp)."""

    type: EventType | str
    tenant_id: str
    agent_id: str | None = None
    run_id: str | None = None
    message: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)


class Event(BaseModel):
    id: int
    position: str = Field(
        description="Where this event is in the stream: resume after it with Last-Event-ID or ?after="
    )
    type: str
    tenant_id: str
    agent_id: str | None
    run_id: str | None
    message: str
    payload: dict[str, Any]
    timestamp: datetime


class EventPage(BaseModel):
    """A page of the event history, oldest first."""

    events: list[Event]
    has_more: bool = Field(
        default=False, description="Whether older events exist: ask again with `before=next_before`"
    )
    next_before: str | None = Field(
        default=None, description="The position to pass as `before` for the page before this one"
    )
    live_after: str | None = Field(
        default=None,
        description="On the newest page: open the SSE stream with `?after=` this position to go on "
        "live with nothing missed (it may repeat a few of this page's newest events: drop them by id)",
    )
