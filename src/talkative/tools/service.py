"""The tool runner's entry point: validate, run sandboxed, report. Never raises for a bad command."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

from talkative.tools import execution, isolation, quota
from talkative.tools.egress import EgressPolicy
from talkative.tools.outcome import Quota, build_result, changed_outputs
from talkative.tools.policy import CommandRefused, prepare_command, split_command
from talkative.tools.schemas import (
    SandboxPolicy,
    SandboxReport,
    StepIdentity,
    ToolErrorCode,
    ToolLimits,
    ToolResult,
)

DEFAULT_LIMITS = ToolLimits()
DEFAULT_SANDBOX = SandboxPolicy()


async def run_tool(
    *,
    workspace: Path,
    command: str | list[str],
    limits: ToolLimits = DEFAULT_LIMITS,
    cancel: asyncio.Event | None = None,
    hidden_paths: Sequence[Path] = (),
    fork_server: bool = True,
    sandbox: SandboxPolicy = DEFAULT_SANDBOX,
    egress: EgressPolicy | None = None,
    step: StepIdentity | None = None,
) -> ToolResult:
    """Run one `python <script>.py ...` command inside `workspace` under `limits`.

    With `hidden_paths` (the data dir, which holds the workspace) the run is sandboxed (see
    isolation.py, confine.py): nothing of the host but an allow-list exists for it, it has no
    network and no privileges. Without them it runs unconfined: only for trusted callers (tests,
    the benchmark). `sandbox.mode` required: if a layer cannot be set up here, the run is refused
    (SANDBOX_UNAVAILABLE); best-effort: it runs with what works, and `metrics.sandbox` says what
    was missing. Raises ValueError if a hidden path is `/`, the workspace or inside it (a
    caller's bug, not a bad command).
    `egress`: the declared and allowed destinations a sandboxed run may reach through the
    egress proxy (egress.py); without it the run has no network at all.
    `fork_server`: fork the launcher from the warm fork server (zygote.py) rather than start a
    new interpreter (the same sandbox either way; falls back by itself when unavailable).
    `step`: the run step this run carries out; the skill gets its idempotency key and attempt
    number (TALKATIVE_IDEMPOTENCY_KEY, TALKATIVE_ATTEMPT) and nothing else of the server's.
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
    layers: tuple[str, ...] = ()
    report = None
    if hidden_paths:
        found = await asyncio.to_thread(isolation.status, sandbox)
        report = found.report(sandbox.mode)
        refused = isolation.refusal(found, sandbox.mode)
        if refused is not None:
            return _refused(tokens, ToolErrorCode.SANDBOX_UNAVAILABLE, refused, started, report)
        layers = found.layers
    root = prepared.workspace
    budget, before = await asyncio.to_thread(quota.measure, root, limits)
    if budget.exhausted:
        message = f"the workspace is full: nothing left of {budget.reason}"
        return _refused(tokens, ToolErrorCode.WRITE_QUOTA, message, started, report)
    # No single file may be larger than the whole allowance either (the kernel enforces that one).
    capped = limits.model_copy(update={"file_size_bytes": min(limits.file_size_bytes, budget.bytes)})
    run = await execution.execute(
        prepared,
        capped,
        cancel,
        hidden_paths,
        fork_server=fork_server,
        sandbox=sandbox,
        layers=layers,
        egress=egress,
        write_watch=lambda: quota.watch(root, before, budget),
        step=step,
    )
    run.sandbox = report
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


def _refused(
    command: list[str],
    code: ToolErrorCode,
    message: str,
    started: float,
    sandbox: SandboxReport | None = None,
) -> ToolResult:
    duration_ms = (time.perf_counter() - started) * 1000
    return ToolResult.not_run(command, code, message, duration_ms=duration_ms, sandbox=sandbox)


def _tokens(command: str | list[str]) -> list[str]:
    try:
        return split_command(command)
    except CommandRefused:
        return [command] if isinstance(command, str) else [str(token) for token in command]
