"""Turning planned skill calls into tool runs and their events."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from talkative.events.schemas import EventType, NewEvent
from talkative.observability.metrics import TOOL_CALLS, TOOL_FAILURES
from talkative.orchestrator.runtime import Runtime
from talkative.tools import isolation
from talkative.tools import service as tools
from talkative.tools.schemas import ToolResult

EVENT_OUTPUT_CHARS = 2000


@dataclass(frozen=True)
class ToolCall:
    skill: str
    command: str
    reason: str  # the task or "heartbeat" that asked for it


def started_event(call: ToolCall, *, tenant_id: str, agent_id: str, run_id: str) -> NewEvent:
    return NewEvent(
        type=EventType.TOOL_RUN_STARTED,
        tenant_id=tenant_id,
        agent_id=agent_id,
        run_id=run_id,
        message=f"running {call.skill}",
        payload={"skill": call.skill, "command": call.command, "reason": call.reason},
    )


async def execute(
    runtime: Runtime, *, workspace_rel: str, call: ToolCall, cancel: asyncio.Event | None = None
) -> ToolResult:
    TOOL_CALLS.labels(call.skill).inc()
    result = await tools.run_tool(
        workspace=runtime.workspace(workspace_rel),
        command=call.command,
        limits=runtime.tool_limits,
        cancel=cancel,
        # Sandboxed: of the data dir the run sees only this agent's workspace (database, secret
        # and other agents' workspaces are hidden), and of the host only an allow-list.
        hidden_paths=[runtime.settings.data_dir.resolve()],
        fork_server=runtime.settings.tool_fork_server,
        sandbox=isolation.policy_for(runtime.settings),
    )
    if not result.ok:
        TOOL_FAILURES.labels(call.skill, result.error.code if result.error else "UNKNOWN").inc()
    return result


def _trim(text: str) -> str:
    return text if len(text) <= EVENT_OUTPUT_CHARS else text[:EVENT_OUTPUT_CHARS] + "…[truncated]"


def finished_events(
    call: ToolCall, result: ToolResult, *, tenant_id: str, agent_id: str, run_id: str
) -> list[NewEvent]:
    payload: dict[str, Any] = result.model_dump(mode="json")
    payload.update(skill=call.skill, stdout=_trim(result.stdout), stderr=_trim(result.stderr))
    outcome = "ok" if result.ok else f"failed ({result.error.code if result.error else 'error'})"
    common = {"tenant_id": tenant_id, "agent_id": agent_id, "run_id": run_id}
    return [
        NewEvent(
            type=EventType.TOOL_RUN_FINISHED, message=f"{call.skill} {outcome}", payload=payload, **common
        ),
        NewEvent(
            type=EventType.METRIC_RECORDED,
            message=f"{call.skill} took {result.metrics.duration_ms:.0f} ms",
            payload={"skill": call.skill, "ok": result.ok, **result.metrics.model_dump(mode="json")},
            **common,
        ),
    ]
