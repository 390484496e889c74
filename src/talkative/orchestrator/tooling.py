"""Turning planned skill calls into tool runs and their events."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from talkative.events.schemas import EventType, NewEvent
from talkative.observability.metrics import TOOL_CALLS, TOOL_FAILURES
from talkative.orchestrator import trust
from talkative.orchestrator.runtime import Runtime
from talkative.tools import isolation
from talkative.tools import service as tools
from talkative.tools.egress import EgressPolicy
from talkative.tools.schemas import ToolError, ToolErrorCode, ToolMetrics, ToolResult

EVENT_OUTPUT_CHARS = 2000


@dataclass(frozen=True)
class ToolCall:
    skill: str
    command: str
    reason: str  # the task or "heartbeat" that asked for it
    digest: str | None = None  # the skill's pinned digest when the step was planned
    egress: tuple[str, ...] = ()  # the destinations an admin allowed it (none: no network)

    @classmethod
    def of(cls, spec: dict[str, Any]) -> ToolCall:
        """The call a planned tool step's spec describes."""
        digest = spec.get(trust.DIGEST_KEY)
        egress = spec.get(trust.EGRESS_KEY)
        return cls(
            skill=spec["skill"],
            command=spec["command"],
            reason=spec.get("reason", ""),
            digest=digest if isinstance(digest, str) else None,
            egress=tuple(str(item) for item in egress) if isinstance(egress, list) else (),
        )


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
    workspace = runtime.workspace(workspace_rel)
    # Checked again right before it runs: a step of the same run may have changed the skill.
    refused = await asyncio.to_thread(
        trust.refusal, workspace, skill=call.skill, command=call.command, digest=call.digest
    )
    if refused is not None:
        TOOL_FAILURES.labels(call.skill, ToolErrorCode.SKILL_UNTRUSTED).inc()
        return _untrusted(call, refused)
    result = await tools.run_tool(
        workspace=workspace,
        command=call.command,
        limits=runtime.tool_limits,
        cancel=cancel,
        # Sandboxed: of the data dir the run sees only this agent's workspace (database, secret
        # and other agents' workspaces are hidden), and of the host only an allow-list.
        hidden_paths=[runtime.settings.data_dir.resolve()],
        fork_server=runtime.settings.tool_fork_server,
        sandbox=isolation.policy_for(runtime.settings),
        egress=_egress(runtime, call),
    )
    if not result.ok:
        TOOL_FAILURES.labels(call.skill, result.error.code if result.error else "UNKNOWN").inc()
    return result


def _egress(runtime: Runtime, call: ToolCall) -> EgressPolicy | None:
    if not call.egress:
        return None
    return EgressPolicy.build(call.egress, runtime.settings.egress_allow_private)


def _untrusted(call: ToolCall, message: str) -> ToolResult:
    return ToolResult(
        ok=False,
        command=[call.command],
        exit_code=None,
        stdout="",
        stderr="",
        artifacts=[],
        metrics=ToolMetrics(duration_ms=0.0, exit_code=None),
        error=ToolError(code=ToolErrorCode.SKILL_UNTRUSTED, message=message),
    )


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
