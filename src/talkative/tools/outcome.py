"""Turns what a run left behind (exit status, output, files) into a ToolResult."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from talkative.tools.execution import Execution
from talkative.tools.launcher import EXIT_SETUP_FAILED, SETUP_FAILURE_PREFIX
from talkative.tools.schemas import ToolError, ToolErrorCode, ToolMetrics, ToolResult

Snapshot = dict[str, tuple[int, int, int, int]]
MAX_ARTIFACT_SCAN = 10_000  # a run that writes more files than this is not browsed in full


def snapshot_outputs(workspace: Path) -> Snapshot:
    """Identity of every file under outputs/, keyed by workspace-relative path."""
    outputs = workspace / "outputs"
    if outputs.is_symlink() or not outputs.is_dir():
        return {}
    found: Snapshot = {}
    for directory, _dirs, files in os.walk(outputs):  # does not follow symlinked directories
        for name in files:
            path = Path(directory, name)
            try:
                info = path.lstat()
            except OSError:
                continue
            # ctime and inode as well: mtime alone misses a rewrite within one clock tick.
            key = path.relative_to(workspace).as_posix()
            found[key] = (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)
            if len(found) >= MAX_ARTIFACT_SCAN:
                return found
    return found


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(path for path, identity in after.items() if before.get(path) != identity)


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


def failure(run: Execution, report: dict[str, Any] | None, timeout_s: float) -> ToolError | None:
    """Why the run failed, most fundamental cause first; None when it succeeded."""
    code = run.returncode
    if run.spawn_error is not None:
        return ToolError(code=ToolErrorCode.SPAWN_FAILED, message=run.spawn_error)
    if code == EXIT_SETUP_FAILED and run.stderr.head().startswith(SETUP_FAILURE_PREFIX):
        return ToolError(code=ToolErrorCode.SPAWN_FAILED, message=run.stderr.text().strip())
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


def build_result(
    *,
    command: list[str],
    run: Execution,
    artifacts: list[str],
    duration_ms: float,
    timeout_s: float,
) -> ToolResult:
    report = parse_report(run.stdout.last())
    error = failure(run, report, timeout_s)
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
        ),
        error=error,
        skillReport=report,
    )
