"""Turns what a run left behind (exit status, output, files) into a ToolResult."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from typing import Any

from talkative.tools.execution import Execution
from talkative.tools.launcher import EXIT_SETUP_FAILED, SETUP_FAILURE_PREFIX
from talkative.tools.quota import Allowance, Enforcement, Snapshot
from talkative.tools.schemas import ToolError, ToolErrorCode, ToolMetrics, ToolResult

MAX_ARTIFACTS = 10_000  # a run that writes more files than this is not listed in full
# The skill helper's own records (what once() has done, talkative.skills.once): not artifacts.
HELPER_STATE = "outputs/.talkative/"


def changed_outputs(before: Snapshot, after: Snapshot, removed: list[str]) -> list[str]:
    """Files under outputs/ that the run created or changed and that were kept."""
    gone = set(removed)
    changed = [
        path
        for path, entry in after.items()
        # ctime and inode as well: mtime alone misses a rewrite within one clock tick.
        if path.startswith("outputs/")
        and not path.startswith(HELPER_STATE)
        and not entry.is_dir
        and before.get(path) != entry
        and path not in gone
    ]
    return sorted(changed)[:MAX_ARTIFACTS]


def parse_report(stdout: bytes) -> dict[str, Any] | None:
    """The skill's envelope: a JSON object with an `ok` key on the last non-empty stdout line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        report = json.loads(lines[-1].decode("utf-8", errors="replace"))
    except ValueError:
        return None
    return report if isinstance(report, dict) and "ok" in report else None


def failure(
    run: Execution, report: dict[str, Any] | None, timeout_s: float, quota: Quota | None = None
) -> ToolError | None:
    """Why the run failed, most fundamental cause first; None when it succeeded."""
    code = run.returncode
    if run.spawn_error is not None:
        return ToolError(code=ToolErrorCode.SPAWN_FAILED, message=run.spawn_error)
    if code == EXIT_SETUP_FAILED and run.stderr.head().startswith(SETUP_FAILURE_PREFIX):
        return ToolError(code=ToolErrorCode.SPAWN_FAILED, message=run.stderr.text().strip())
    if quota is not None and (
        run.stopped is ToolErrorCode.WRITE_QUOTA
        or quota.outcome.exceeded
        or (quota.outcome.full and run.stopped is None and code != 0)
    ):
        return ToolError(code=ToolErrorCode.WRITE_QUOTA, message=_quota_message(run, quota))
    if run.stopped is ToolErrorCode.TIMEOUT:
        return ToolError(code=run.stopped, message=f"killed after the {timeout_s:g}s time limit")
    if run.stopped is ToolErrorCode.CANCELLED:
        return ToolError(code=run.stopped, message="cancelled")
    if run.process_limit_hit and (run.stopped is not None or code != 0):
        return ToolError(code=ToolErrorCode.PROCESS_LIMIT, message="too many processes")
    if code != 0:
        return ToolError(code=ToolErrorCode.NONZERO_EXIT, message=_exit_message(code, report))
    if report is not None and report.get("ok") is not True:
        return ToolError(code=ToolErrorCode.SKILL_REPORTED_FAILURE, message=_report_error(report))
    return None


def _quota_message(run: Execution, quota: Quota) -> str:
    outcome = quota.outcome
    how = "stopped: it wrote" if run.stopped is ToolErrorCode.WRITE_QUOTA else "it wrote"
    over = "over" if outcome.exceeded else "all of"
    written = f"{outcome.written_bytes} bytes in {outcome.written_files} files"
    message = f"{how} {written}, {over} {quota.allowance.reason}"
    if outcome.removed:
        message += f"; removed {len(outcome.removed)} of the files it wrote"
    return message


def _exit_message(code: int | None, report: dict[str, Any] | None) -> str:
    if code is not None and code < 0:
        message = f"killed by {signal.Signals(-code).name}"
    else:
        message = f"exited with code {code}"
    if report is not None and report.get("ok") is not True:
        message += f": {_report_error(report)}"
    return message


def _report_error(report: dict[str, Any]) -> str:
    error = report.get("error")
    if isinstance(error, dict):
        error = error.get("message") or json.dumps(error)
    return str(error) if error else "the skill reported ok=false without an error"


@dataclass(frozen=True, slots=True)
class Quota:
    """The run's write allowance and what enforcing it did."""

    allowance: Allowance
    outcome: Enforcement


def build_result(
    *,
    command: list[str],
    run: Execution,
    artifacts: list[str],
    duration_ms: float,
    timeout_s: float,
    quota: Quota | None = None,
) -> ToolResult:
    report = parse_report(run.stdout.last())
    error = failure(run, report, timeout_s, quota)
    written = quota.outcome if quota is not None else Enforcement(0, 0, exceeded=False)
    return ToolResult(
        ok=error is None,
        command=command,
        exit_code=run.returncode,
        stdout=run.stdout.text(),
        stderr=run.stderr.text(),
        artifacts=artifacts,
        metrics=ToolMetrics(
            duration_ms=duration_ms,
            exit_code=run.returncode,
            stdout_bytes=run.stdout.total,
            stderr_bytes=run.stderr.total,
            stdout_truncated=run.stdout.truncated,
            stderr_truncated=run.stderr.truncated,
            process_limit_hit=run.process_limit_hit,
            isolated=run.isolated,
            sandbox=run.sandbox,
            egress_refused=run.egress_refused,
            written_bytes=written.written_bytes,
            written_files=written.written_files,
        ),
        error=error,
        skillReport=report,
        removed=written.removed,
    )
