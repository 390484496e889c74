"""The tool step of an MCP skill: call the tool over MCP instead of running a script.

Called by the tool executor once the skill's folder has the digest an admin pinned (so its
SKILL.md, with the tool digest it was attached at, is as attached). Right before the call:
- the server must still exist in the agent's tenant, and the tool be approved at the digest the
  skill pinned;
- no budget of the tenant or agent may be spent already (llm_router's caps);
- the tool as the server lists it now must have that digest too, else it is not called and its
  new listing is recorded as changed, awaiting an admin's approval.
After the call, a cost the tool reports (docs/mcp.md: `_meta.cost_usd` or `structuredContent.
cost_usd`) goes into the usage ledger as model `mcp:<server>/<tool>`, so budgets and /usage see it.
The server's credentials are used for the call only: never in the result, an event or a log.
A `command` server runs in the sandbox of the calling agent's workspace; the digest it is checked
at includes its script's skill folder there, so a changed script is a changed tool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.errors import TalkativeError
from talkative.llm_router import ledger
from talkative.llm_router import service as llm
from talkative.mcp_skills import service, transports
from talkative.mcp_skills.client import McpFailure, ToolCallOutcome, scrub
from talkative.settings import Settings
from talkative.skills.manifest import InvalidSkill, McpRef, load_skill
from talkative.tools.schemas import (
    StepIdentity,
    ToolError,
    ToolErrorCode,
    ToolLimits,
    ToolMetrics,
    ToolResult,
)

logger = logging.getLogger(__name__)
MAX_STRUCTURED_CHARS = 4000  # of a structured result kept in the step's report
ARGUMENT_NAMES = ("text", "query", "input", "message", "task", "prompt")


def arguments_for(schema: dict[str, Any], text: str) -> dict[str, Any]:
    """The arguments a tool is called with: the task's text as its string argument (the first
    required string property, else the first of ARGUMENT_NAMES it has), or none."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}

    def is_string(name: object) -> bool:
        spec = properties.get(name) if isinstance(name, str) else None
        return isinstance(spec, dict) and spec.get("type") == "string"

    required = schema.get("required")
    for name in required if isinstance(required, list) else []:
        if is_string(name):
            return {name: text}
    for name in ARGUMENT_NAMES:
        if is_string(name):
            return {name: text}
    return {}


def _result(command: str, started: float, *, code: ToolErrorCode, message: str) -> ToolResult:
    duration_ms = (time.perf_counter() - started) * 1000
    return ToolResult.not_run([command], code, message, duration_ms=duration_ms)


def budget_breach(result: ToolResult) -> dict[str, Any] | None:
    """The cap a refused MCP call would have passed (for its BUDGET_EXCEEDED event), if that is why."""
    if result.error is None or result.error.code != ToolErrorCode.BUDGET_EXCEEDED:
        return None
    report = result.skillReport or {}
    breach = report.get("budget")
    return breach if isinstance(breach, dict) else None


def _report(ref: McpRef, outcome: ToolCallOutcome) -> dict[str, Any]:
    structured = outcome.structured
    if structured is not None and len(json.dumps(structured, default=str)) > MAX_STRUCTURED_CHARS:
        structured = {"truncated": True}
    data = structured if isinstance(structured, dict) else {"text": outcome.text[:500]}
    return {
        "ok": outcome.ok,
        "data": data,
        "mcp": {"server": ref.server, "tool": ref.tool, "digest": ref.digest},
        "cost_usd": outcome.cost_usd,
    }


async def run(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    tenant_id: str,
    agent_id: str,
    run_id: str,
    skill_folder: Path,
    command: str,
    task: str,
    limits: ToolLimits,
    cancel: asyncio.Event | None = None,
    step: StepIdentity | None = None,
) -> ToolResult:
    """The MCP skill's step. `limits`, `cancel`, `step`: a `command` server's sandboxed runs'."""
    started = time.perf_counter()
    try:
        manifest = load_skill(skill_folder).manifest
    except InvalidSkill as exc:
        return _result(command, started, code=ToolErrorCode.SKILL_UNTRUSTED, message=f"invalid skill: {exc}")
    ref = manifest.mcp
    if ref is None or manifest.command != command:
        message = f"skill {manifest.name} no longer calls {command!r}; an admin must re-attach it"
        return _result(command, started, code=ToolErrorCode.SKILL_UNTRUSTED, message=message)
    async with sessionmaker() as session, session.begin():
        found = await service.approved_tool(
            session, tenant_id=tenant_id, server_name=ref.server, tool_name=ref.tool
        )
        if found is None:
            message = f"MCP server {ref.server} has no tool {ref.tool} (any more)"
            return _result(command, started, code=ToolErrorCode.MCP_UNAVAILABLE, message=message)
        access, tool = found
        if not tool.approved or tool.approved_digest != ref.digest:
            message = (
                f"MCP tool {ref.server}/{ref.tool} changed since skill {manifest.name} was attached; "
                "an admin must approve the tool and attach the skill again"
            )
            return _result(command, started, code=ToolErrorCode.SKILL_UNTRUSTED, message=message)
        arguments = arguments_for(tool.input_schema, task)
        try:
            await llm.check_spent(session, tenant_id=tenant_id, agent_id=agent_id)
        except llm.BudgetExceeded as exc:
            refused = _result(command, started, code=ToolErrorCode.BUDGET_EXCEEDED, message=exc.message)
            breach = {"cap": exc.breach.cap, "limit": exc.breach.limit, "spent": exc.breach.spent}
            return refused.model_copy(update={"skillReport": {"ok": False, "budget": breach}})
    try:
        live, outcome = await transports.call_tool(
            settings,
            access,
            tool=ref.tool,
            arguments=arguments,
            expected_digest=ref.digest,
            limits=limits,
            workspace=skill_folder.parent.parent,
            cancel=cancel,
            step=step,
        )
    except (McpFailure, TalkativeError) as exc:
        message = scrub(f"MCP tool {ref.server}/{ref.tool} failed: {exc}", access.credentials.values())
        logger.warning("mcp: %s", message)
        return _result(command, started, code=ToolErrorCode.MCP_UNAVAILABLE, message=message)
    elapsed = (time.perf_counter() - started) * 1000
    if outcome is None:
        async with sessionmaker() as session, session.begin():
            await service.mark_seen(session, server_id=access.server_id, info=live, tool_name=ref.tool)
        what = "is no longer listed" if live is None else "changed (its description or input schema)"
        message = f"MCP tool {ref.server}/{ref.tool} {what}; not called until an admin approves it again"
        return _result(command, started, code=ToolErrorCode.SKILL_UNTRUSTED, message=message)
    if outcome.cost_usd is not None:
        async with sessionmaker() as session, session.begin():
            await ledger.record(
                session,
                tenant_id=tenant_id,
                agent_id=agent_id,
                run_id=run_id,
                model=f"mcp:{ref.server}/{ref.tool}",
                status="ok" if outcome.ok else "error",
                prompt_tokens=0,
                completion_tokens=0,
                cost=outcome.cost_usd,
                latency_ms=elapsed,
            )
    text = scrub(outcome.text, access.credentials.values())
    error = None if outcome.ok else ToolError(code=ToolErrorCode.SKILL_REPORTED_FAILURE, message=text[:500])
    return ToolResult(
        ok=outcome.ok,
        command=[command],
        exit_code=None,
        stdout=text,
        stderr="",
        artifacts=[],
        metrics=ToolMetrics(duration_ms=elapsed, exit_code=None, stdout_bytes=len(text.encode())),
        error=error,
        skillReport=_report(ref, outcome),
    )
