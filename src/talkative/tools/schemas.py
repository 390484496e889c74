"""Tool runner contract: limits in, result out (the result shape of docs/product.md §4.4)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MiB = 1024 * 1024


class ToolErrorCode(StrEnum):
    COMMAND_REFUSED = "COMMAND_REFUSED"
    PATH_OUTSIDE_WORKSPACE = "PATH_OUTSIDE_WORKSPACE"
    SCRIPT_NOT_FOUND = "SCRIPT_NOT_FOUND"
    TIMEOUT = "TIMEOUT"
    CANCELLED = "CANCELLED"
    PROCESS_LIMIT = "PROCESS_LIMIT"
    NONZERO_EXIT = "NONZERO_EXIT"
    SKILL_REPORTED_FAILURE = "SKILL_REPORTED_FAILURE"
    SPAWN_FAILED = "SPAWN_FAILED"
    SANDBOX_UNAVAILABLE = "SANDBOX_UNAVAILABLE"
    WRITE_QUOTA = "WRITE_QUOTA"
    SKILL_UNTRUSTED = "SKILL_UNTRUSTED"  # refused by the caller before it ran (orchestrator/trust.py)
    MCP_UNAVAILABLE = "MCP_UNAVAILABLE"  # an MCP skill's server failed, timed out or is gone (mcp_skills/)
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"  # an MCP skill's call refused: a budget is already spent


class SandboxMode(StrEnum):
    REQUIRED = "required"  # a run that cannot have every layer does not run
    BEST_EFFORT = "best-effort"  # runs with the layers this host has, and says which are missing


class SandboxPolicy(BaseModel):
    """How skill runs are confined (settings TALKATIVE_SANDBOX, TALKATIVE_SANDBOX_UID/GID)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: SandboxMode = SandboxMode.REQUIRED
    uid: int = Field(default=65534, gt=0)  # as root: the uid/gid the script runs as; never 0
    gid: int = Field(default=65534, gt=0)
    tmp_bytes: int = Field(default=64 * MiB, gt=0)  # the run's private /tmp


class SandboxReport(BaseModel):
    """What confined a run: every layer (see tools/confine.py) it had, and those it lacked."""

    mode: SandboxMode
    layers: list[str]
    missing: list[str] = []


class ToolLimits(BaseModel):
    """Per-run limits. `max_processes` covers the launcher, the script and all they start
    (threads included when a pids cgroup enforces it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(default=30.0, gt=0)
    cpu_s: int = Field(default=30, gt=0)
    memory_bytes: int = Field(default=512 * MiB, gt=0)
    file_size_bytes: int = Field(default=50 * MiB, gt=0)
    open_files: int = Field(default=256, gt=0)
    max_processes: int = Field(default=64, gt=1)
    output_cap_bytes: int = Field(default=1 * MiB, gt=0)
    # What one run may add under inputs/ and outputs/, and what the whole workspace may hold
    # (see quota.py); entries are files, folders and links.
    write_quota_bytes: int = Field(default=64 * MiB, gt=0)
    write_quota_files: int = Field(default=10_000, gt=0)
    workspace_quota_bytes: int = Field(default=256 * MiB, gt=0)
    workspace_quota_files: int = Field(default=50_000, gt=0)


class StepIdentity(BaseModel):
    """Which attempt of which run step a skill run carries out; the skill reads it from its
    environment (see talkative.skills.once) to do its side effects once per step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The same in every attempt of the step, different in every other step. Printable ASCII: it
    # goes into an environment variable (no NUL) and may go on to another service's headers.
    idempotency_key: str = Field(min_length=1, max_length=200, pattern=r"^[!-~]+$")
    attempt: int = Field(ge=1)


class ToolError(BaseModel):
    code: ToolErrorCode
    message: str


class ToolMetrics(BaseModel):
    duration_ms: float
    exit_code: int | None
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    process_limit_hit: bool = False
    # True: the script ran with every layer of the sandbox (see tools/confine.py), or not at all (the
    # launcher refuses to start it otherwise). False: not asked for, or some layer missing (best-effort).
    isolated: bool = False
    sandbox: SandboxReport | None = None  # None: an unconfined run (no hidden paths given)
    egress_refused: list[str] = []  # connections the egress proxy denied (tools/egress.py)
    # What the run added under inputs/ and outputs/ (before any excess was removed).
    written_bytes: int = 0
    written_files: int = 0


class ToolResult(BaseModel):
    ok: bool
    command: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    artifacts: list[str]
    metrics: ToolMetrics
    error: ToolError | None = None
    skillReport: dict[str, Any] | None = None  # the wire name in docs/product.md §4.4
    removed: list[str] = []  # what the run wrote beyond its write quota, removed after it

    @classmethod
    def not_run(
        cls,
        command: list[str],
        code: ToolErrorCode,
        message: str,
        *,
        duration_ms: float = 0.0,
        sandbox: SandboxReport | None = None,
    ) -> ToolResult:
        """A command that never ran (refused, cancelled first, untrusted): an error result."""
        return cls(
            ok=False,
            command=command,
            exit_code=None,
            stdout="",
            stderr="",
            artifacts=[],
            metrics=ToolMetrics(duration_ms=duration_ms, exit_code=None, sandbox=sandbox),
            error=ToolError(code=code, message=message),
        )
