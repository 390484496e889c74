"""A tool step: runs a skill's command in the agent's sandboxed workspace and records the result."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents.models import Agent
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.mcp_skills import execute as mcp_execute
from talkative.observability import tracing
from talkative.observability.metrics import TOOL_CALLS, TOOL_FAILURES
from talkative.orchestrator import trust
from talkative.orchestrator.steps.base import StepJob, StepOutcome
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import StepStatus
from talkative.runs.specs import ToolSpec
from talkative.runtime import Runtime
from talkative.skills.manifest import is_mcp_command
from talkative.skills.summaries import summarize_report
from talkative.tools import isolation
from talkative.tools import service as tools
from talkative.tools.egress import EgressPolicy
from talkative.tools.schemas import StepIdentity, ToolErrorCode, ToolResult

EVENT_OUTPUT_CHARS = 2000


class ToolExecutor:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def begin(self, session: AsyncSession, run: Run, step: RunStep) -> StepOutcome | StepJob:
        agent = await session.get(Agent, (run.tenant_id, run.agent_id))
        if agent is None:  # the run cannot go on: the step fails, and the run with its reason
            return StepOutcome(StepStatus.FAILED, {"error": f"agent '{run.agent_id}' no longer exists"})
        job = StepJob.of(run, step, agent.workspace)
        spec = _spec(job)
        started = job.event(
            EventType.TOOL_RUN_STARTED,
            f"running {spec.skill}",
            {"skill": spec.skill, "command": spec.command, "reason": spec.reason, "attempt": job.attempt},
        )
        await events.append(session, [started])
        return job

    async def work(self, job: StepJob, cancel: asyncio.Event) -> StepOutcome:
        spec = _spec(job)
        step = StepIdentity(idempotency_key=job.idempotency_key, attempt=job.attempt)
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": spec.skill}
        with tracing.span(f"execute_tool {spec.skill}", attributes=attributes) as span:
            result = await self.run(spec, job.workspace, cancel, step=step, job=job)
            if result.exit_code is not None:
                span.set_attribute("talkative.tool.exit_code", result.exit_code)
            span.set_attribute("talkative.tool.duration_ms", result.metrics.duration_ms)
            if result.error is not None:
                tracing.failed(span, str(result.error.code))
        return StepOutcome(
            StepStatus.DONE if result.ok else StepStatus.FAILED,
            {
                "ok": result.ok,
                "exit_code": result.exit_code,
                "artifacts": result.artifacts,
                "error": result.error.message if result.error else None,
                "error_code": str(result.error.code) if result.error else None,
                "duration_ms": result.metrics.duration_ms,
                # The report in words, kept for the reply (the report itself is in the events).
                "summary": summarize_report(spec.skill, result.skillReport),
            },
            _finished_events(job, spec, result),
        )

    async def run(
        self,
        spec: ToolSpec,
        workspace_rel: str,
        cancel: asyncio.Event,
        *,
        step: StepIdentity,
        job: StepJob | None = None,
    ) -> ToolResult:
        """The skill's command in the sandbox, if its skill is still as an admin attached it.
        `step` tells the skill which attempt of which step it is (for `once`, skills/once.py).
        An MCP skill's tool is called over MCP instead (mcp_skills/execute.py), for `job`'s run."""
        TOOL_CALLS.labels(spec.skill).inc()
        settings = self.runtime.settings
        workspace = self.runtime.workspace(workspace_rel)
        # Checked again right before it runs: a step of the same run may have changed the skill.
        refused = await asyncio.to_thread(
            trust.refusal, workspace, skill=spec.skill, command=spec.command, digest=spec.skill_digest
        )
        if refused is not None:
            TOOL_FAILURES.labels(spec.skill, ToolErrorCode.SKILL_UNTRUSTED).inc()
            return ToolResult.not_run([spec.command], ToolErrorCode.SKILL_UNTRUSTED, refused)
        if is_mcp_command(spec.command):
            result = await self._call_mcp(spec, workspace, job, cancel, step)
            if not result.ok:
                TOOL_FAILURES.labels(spec.skill, result.error.code if result.error else "UNKNOWN").inc()
            return result
        result = await tools.run_tool(
            workspace=workspace,
            command=spec.command,
            limits=self.runtime.tool_limits,
            cancel=cancel,
            # Sandboxed: of the data dir and the workspaces root the run sees only this agent's
            # workspace, and of the host only an allow-list.
            hidden_paths=isolation.hidden_paths(settings),
            fork_server=settings.tool_fork_server,
            sandbox=isolation.policy_for(settings),
            egress=EgressPolicy.build(spec.egress, settings.egress_allow_private) if spec.egress else None,
            step=step,
        )
        if not result.ok:
            TOOL_FAILURES.labels(spec.skill, result.error.code if result.error else "UNKNOWN").inc()
        return result

    async def _call_mcp(
        self, spec: ToolSpec, workspace: Path, job: StepJob | None, cancel: asyncio.Event, step: StepIdentity
    ) -> ToolResult:
        if job is None:  # (every step has its job; a caller without one cannot account for a call)
            return ToolResult.not_run(
                [spec.command],
                ToolErrorCode.SKILL_UNTRUSTED,
                f"skill {spec.skill} calls an MCP tool, which needs a run",
            )
        return await mcp_execute.run(
            self.runtime.settings,
            self.runtime.sessionmaker,
            tenant_id=job.tenant_id,
            agent_id=job.agent_id,
            run_id=job.run_id,
            skill_folder=workspace / "skills" / spec.skill,
            command=spec.command,
            task=spec.reason,
            limits=self.runtime.tool_limits,
            cancel=cancel,
            step=step,
        )


def _spec(job: StepJob) -> ToolSpec:
    assert isinstance(job.spec, ToolSpec)
    return job.spec


def _trim(text: str) -> str:
    return text if len(text) <= EVENT_OUTPUT_CHARS else text[:EVENT_OUTPUT_CHARS] + "…[truncated]"


def _finished_events(job: StepJob, spec: ToolSpec, result: ToolResult) -> list[NewEvent]:
    payload: dict[str, Any] = result.model_dump(mode="json")
    payload.update(skill=spec.skill, stdout=_trim(result.stdout), stderr=_trim(result.stderr))
    outcome = "ok" if result.ok else f"failed ({result.error.code if result.error else 'error'})"
    took = f"{spec.skill} took {result.metrics.duration_ms:.0f} ms"
    metrics = {"skill": spec.skill, "ok": result.ok, **result.metrics.model_dump(mode="json")}
    found = [
        job.event(EventType.TOOL_RUN_FINISHED, f"{spec.skill} {outcome}", payload),
        job.event(EventType.METRIC_RECORDED, took, metrics),
    ]
    breach = mcp_execute.budget_breach(result)
    if breach is not None and result.error is not None:  # an MCP tool not called: a cap is spent
        found.append(
            job.event(EventType.BUDGET_EXCEEDED, result.error.message, {**breach, "skill": spec.skill})
        )
    return found
