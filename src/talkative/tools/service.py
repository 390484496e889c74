"""The tool runner's entry point: validate, run sandboxed, report. Never raises for a bad command."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from talkative.tools import execution, isolation, quota
from talkative.tools.outcome import Quota, build_result, changed_outputs
from talkative.tools.policy import CommandRefused, prepare_command, split_command
from talkative.tools.schemas import ToolError, ToolErrorCode, ToolLimits, ToolMetrics, ToolResult

DEFAULT_LIMITS = ToolLimits()


async def run_tool(
    *,
    workspace: Path,
    command: str | list[str],
    limits: ToolLimits = DEFAULT_LIMITS,
    cancel: asyncio.Event | None = None,
    hidden_paths: Sequence[Path] = (),
    fork_server: bool = True,
) -> ToolResult:
    """Run one `python <script>.py ...` command inside `workspace` under `limits`.

    `hidden_paths` (typically the data dir, which holds the workspace) are replaced by empty
    directories for the script, except for the workspace itself; the script also gets its own
    /proc and a read-only view of the rest of the host. This needs Linux namespaces: without
    them the run goes ahead unconfined and `metrics.isolated` is False. Raises ValueError if a
    hidden path is `/`, the workspace or inside it (a caller's bug, not a bad command).
    `fork_server`: fork the launcher from the warm fork server (zygote.py) rather than start a
    new interpreter (the same sandbox either way; falls back by itself when unavailable).
    """
    started = time.perf_counter()
    isolation.isolate_config(workspace, hidden_paths)  # validates them before anything runs
    tokens = _tokens(command)
    try:
        prepared = prepare_command(workspace, command)
    except CommandRefused as refusal:
        return _refused(tokens, refusal.code, refusal.message, started)
    if cancel is not None and cancel.is_set():
        return _refused(tokens, ToolErrorCode.CANCELLED, "cancelled before it started", started)
    root = prepared.workspace
    budget, before = await asyncio.to_thread(quota.measure, root, limits)
    if budget.exhausted:
        message = f"the workspace is full: nothing left of {budget.reason}"
        return _refused(tokens, ToolErrorCode.WRITE_QUOTA, message, started)
    # No single file may be larger than the whole allowance either (the kernel enforces that one).
    capped = limits.model_copy(update={"file_size_bytes": min(limits.file_size_bytes, budget.bytes)})
    run = await execution.execute(
        prepared,
        capped,
        cancel,
        hidden_paths,
        fork_server=fork_server,
        write_watch=lambda: quota.watch(root, before, budget),
    )
    after, enforced = await asyncio.to_thread(_settle, root, before, budget)
    return build_result(
        command=tokens,
        run=run,
        artifacts=changed_outputs(before, after, enforced.removed),
        duration_ms=(time.perf_counter() - started) * 1000,
        timeout_s=limits.timeout_s,
        quota=Quota(budget, enforced),
    )


def _settle(
    workspace: Path, before: quota.Snapshot, budget: quota.Allowance
) -> tuple[quota.Snapshot, quota.Enforcement]:
    """What the writable dirs hold after the run, once what it wrote beyond `budget` is removed."""
    after = quota.snapshot(workspace)
    return after, quota.enforce(workspace, before, after, budget)


def _tokens(command: str | list[str]) -> list[str]:
    try:
        return split_command(command)
    except CommandRefused:
        return [command] if isinstance(command, str) else [str(token) for token in command]


def _refused(command: list[str], code: ToolErrorCode, message: str, started: float) -> ToolResult:
    """A command that never ran: an error result, not an exception."""
    return ToolResult(
        ok=False,
        command=command,
        exit_code=None,
        stdout="",
        stderr="",
        artifacts=[],
        metrics=ToolMetrics(duration_ms=(time.perf_counter() - started) * 1000, exit_code=None),
        error=ToolError(code=code, message=message),
    )
