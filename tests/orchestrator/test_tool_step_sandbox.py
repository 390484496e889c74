"""A tool step runs its skill as the settings say: sandboxed with the configured policy, the data
dir hidden, the configured limits, network only where an admin allowed it, and only while the
skill is still as it was attached. Refusals and failures are counted per skill and error code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from talkative import workspaces
from talkative.conversation.interpreter import LocalInterpreter
from talkative.events.bus import LocalEventBus
from talkative.observability.metrics import REGISTRY
from talkative.orchestrator.steps.tool import ToolExecutor
from talkative.runs.specs import ToolSpec
from talkative.runtime import Runtime, tool_limits
from talkative.settings import Settings
from talkative.skills import pins
from talkative.tools import service as tools
from talkative.tools.egress import EgressPolicy
from talkative.tools.schemas import (
    SandboxMode,
    SandboxPolicy,
    StepIdentity,
    ToolError,
    ToolErrorCode,
    ToolMetrics,
    ToolResult,
)
from tests.tools.fake_host import FakeHost, fake_host
from tests.tools.helpers import namespaces_supported

WORKSPACE = "workspaces/tenant-a/bot"
COMMAND = "python skills/{skill}/scripts/run.py"
STEP = StepIdentity(idempotency_key="run_0123456789abcdef:0", attempt=1)
# Leaves a mark, and says whether the server's secret in the data dir was within reach.
SCRIPT = """
import json
try:
    seen = open({secret!r}).read()
except OSError as exc:
    seen = type(exc).__name__
open("outputs/ran.json", "w").write(json.dumps(seen))
"""


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(
        TALKATIVE_DATA_DIR=tmp_path / "data",
        TALKATIVE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        AUTH_JWT_SECRET="x" * 48,
        **values,
    )


def _runtime(settings: Settings) -> Runtime:
    return Runtime(settings, async_sessionmaker(), LocalEventBus(), LocalInterpreter(), tool_limits(settings))


def _skill(settings: Settings, skill: str, script: str | None = None) -> ToolSpec:
    """A skill in the agent's workspace, and a step planned to run it (pinned as it is now)."""
    workspace = workspaces.resolve(settings.workspaces_dir, WORKSPACE)
    for folder in (f"skills/{skill}/scripts", "inputs", "outputs"):
        (workspace / folder).mkdir(parents=True, exist_ok=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "jwt-secret").write_text("jwt-secret-value")
    script = script or SCRIPT.format(secret=str((settings.data_dir / "jwt-secret").resolve()))
    (workspace / "skills" / skill / "scripts" / "run.py").write_text(script)
    (workspace / "skills" / skill / "SKILL.md").write_text(f"---\nname: {skill}\n---\nTest skill.\n")
    digest = pins.skill_digest(workspace / "skills" / skill)
    return ToolSpec(skill=skill, command=COMMAND.format(skill=skill), skill_digest=digest)


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"talkative_{name}_total", labels) or 0.0


def _result(ok: bool, error: ToolError | None = None) -> ToolResult:
    return ToolResult(
        ok=ok,
        command=["python"],
        exit_code=0 if ok else 1,
        stdout="",
        stderr="",
        artifacts=[],
        metrics=ToolMetrics(duration_ms=1.0, exit_code=0 if ok else 1),
        error=error,
    )


class Spy:
    """Stands in for `tools.run_tool`: records what each call was given, answers with `results`."""

    def __init__(self, *results: ToolResult) -> None:
        self.results = list(results)
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> ToolResult:
        self.calls.append(kwargs)
        return self.results.pop(0)


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHost]:
    with fake_host(monkeypatch) as fake:
        yield fake


async def test_the_step_runs_the_skill_with_the_configured_sandbox_limits_and_hidden_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(
        tmp_path,
        TALKATIVE_SANDBOX="best-effort",
        TALKATIVE_SANDBOX_UID=4242,
        TALKATIVE_SANDBOX_GID=4343,
        TALKATIVE_TOOL_FORK_SERVER=False,
        TALKATIVE_TOOL_TIMEOUT_S=7,
    )
    runtime = _runtime(settings)
    spec = _skill(settings, "wired")
    spy = Spy(_result(ok=True))
    monkeypatch.setattr(tools, "run_tool", spy)
    cancel = asyncio.Event()
    calls = _count("tool_calls", skill="wired")

    result = await ToolExecutor(runtime).run(spec, WORKSPACE, cancel, step=STEP)

    assert result.ok
    assert spy.calls == [
        {
            "workspace": (settings.data_dir / WORKSPACE).resolve(),
            "command": spec.command,
            "limits": runtime.tool_limits,
            "cancel": cancel,
            "hidden_paths": [settings.data_dir.resolve()],
            "fork_server": False,
            "sandbox": SandboxPolicy(mode=SandboxMode.BEST_EFFORT, uid=4242, gid=4343),
            "egress": None,  # no network at all, not even the egress proxy
            "step": STEP,
        }
    ]
    assert spy.calls[0]["limits"].timeout_s == 7
    assert _count("tool_calls", skill="wired") == calls + 1
    assert _count("tool_failures", skill="wired", code="UNKNOWN") == 0


async def test_with_a_workspaces_root_outside_the_data_dir_both_are_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    settings = _settings(tmp_path, TALKATIVE_WORKSPACES_DIR=str(shared))
    spec = _skill(settings, "wired")
    spy = Spy(_result(ok=True))
    monkeypatch.setattr(tools, "run_tool", spy)

    await ToolExecutor(_runtime(settings)).run(spec, WORKSPACE, asyncio.Event(), step=STEP)

    assert spy.calls[0]["workspace"] == (shared / "tenant-a" / "bot").resolve()
    assert spy.calls[0]["hidden_paths"] == [settings.data_dir.resolve(), shared.resolve()]


# Reads what a run in the shared root might reach: another agent's workspace beside its own, the
# root itself, and the server's data dir.
NOSY = """
import json, os
seen = {{}}
for path in [{other!r}, {secret!r}]:
    try:
        seen[path] = open(path).read()
    except OSError as exc:
        seen[path] = type(exc).__name__
seen["root"] = sorted(os.listdir({root!r})) if os.path.isdir({root!r}) else None
open("outputs/ran.json", "w").write(json.dumps(seen))
"""


async def test_a_step_in_a_shared_workspaces_root_sees_its_own_workspace_only(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    settings = _settings(tmp_path, TALKATIVE_WORKSPACES_DIR=str(shared), TALKATIVE_SANDBOX="required")
    other = shared / "tenant-b" / "bot" / "inputs" / "private.json"
    other.parent.mkdir(parents=True)
    other.write_text("another tenant's agent")
    secret = settings.data_dir / "jwt-secret"
    nosy = NOSY.format(other=str(other.resolve()), secret=str(secret.resolve()), root=str(shared.resolve()))
    spec = _skill(settings, "nosy", nosy)

    result = await ToolExecutor(_runtime(settings)).run(spec, WORKSPACE, asyncio.Event(), step=STEP)

    assert result.ok, result.stderr
    seen = json.loads((shared / "tenant-a" / "bot" / "outputs" / "ran.json").read_text())
    assert seen == {
        str(other.resolve()): "FileNotFoundError",
        str(secret.resolve()): "FileNotFoundError",
        "root": ["tenant-a"],  # on the way to its own workspace, and nothing else
    }


async def test_a_skill_allowed_the_network_reaches_only_its_declared_destinations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, TALKATIVE_EGRESS_ALLOW_PRIVATE="intranet.example")
    spec = _skill(settings, "fetcher").model_copy(update={"egress": ("API.example.com:443",)})
    spy = Spy(_result(ok=True))
    monkeypatch.setattr(tools, "run_tool", spy)

    await ToolExecutor(_runtime(settings)).run(spec, WORKSPACE, asyncio.Event(), step=STEP)

    egress = spy.calls[0]["egress"]
    assert egress == EgressPolicy(frozenset({("api.example.com", 443)}), frozenset({"intranet.example"}))


async def test_a_skill_changed_since_the_step_was_planned_does_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    spec = _skill(settings, "changed")
    (settings.data_dir / WORKSPACE / "skills/changed/scripts/run.py").write_text("print('rewritten')\n")
    spy = Spy()
    monkeypatch.setattr(tools, "run_tool", spy)
    calls = _count("tool_calls", skill="changed")
    refused = _count("tool_failures", skill="changed", code="SKILL_UNTRUSTED")

    result = await ToolExecutor(_runtime(settings)).run(spec, WORKSPACE, asyncio.Event(), step=STEP)

    assert spy.calls == []
    assert not result.ok and result.exit_code is None and result.command == [spec.command]
    assert result.error == ToolError(
        code=ToolErrorCode.SKILL_UNTRUSTED,
        message="skill changed changed since it was attached; an admin must re-attach it",
    )
    assert _count("tool_calls", skill="changed") == calls + 1
    assert _count("tool_failures", skill="changed", code="SKILL_UNTRUSTED") == refused + 1


async def test_failed_runs_are_counted_by_skill_and_error_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    spec = _skill(settings, "flaky")
    timeout = ToolError(code=ToolErrorCode.TIMEOUT, message="timed out")
    monkeypatch.setattr(tools, "run_tool", Spy(_result(False, timeout), _result(False), _result(True)))
    before = {code: _count("tool_failures", skill="flaky", code=code) for code in ("TIMEOUT", "UNKNOWN")}
    executor = ToolExecutor(_runtime(settings))

    for _ in range(3):
        await executor.run(spec, WORKSPACE, asyncio.Event(), step=STEP)

    assert _count("tool_failures", skill="flaky", code="TIMEOUT") == before["TIMEOUT"] + 1
    assert _count("tool_failures", skill="flaky", code="UNKNOWN") == before["UNKNOWN"] + 1  # no error given


async def test_required_refuses_the_step_on_a_host_that_cannot_confine(
    tmp_path: Path, host: FakeHost
) -> None:
    host.alone = {"mount": "the host's files are visible"}
    settings = _settings(tmp_path)  # TALKATIVE_SANDBOX=required, the default
    spec = _skill(settings, "guarded")

    result = await ToolExecutor(_runtime(settings)).run(spec, WORKSPACE, asyncio.Event(), step=STEP)

    assert result.error is not None and result.error.code is ToolErrorCode.SANDBOX_UNAVAILABLE
    assert "missing mount (mount: the host's files are visible)" in result.error.message
    assert not (settings.data_dir / WORKSPACE / "outputs" / "ran.json").exists()


@pytest.mark.skipif(not namespaces_supported(), reason="no Linux namespaces here")
async def test_best_effort_runs_the_step_with_the_layers_there_are_and_the_data_dir_hidden(
    tmp_path: Path, host: FakeHost
) -> None:
    host.alone = {"network": "reached the host's loopback"}
    settings = _settings(tmp_path, TALKATIVE_SANDBOX="best-effort")
    spec = _skill(settings, "tolerant")

    result = await ToolExecutor(_runtime(settings)).run(spec, WORKSPACE, asyncio.Event(), step=STEP)

    assert result.ok, result.stderr
    assert result.metrics.sandbox is not None and result.metrics.sandbox.mode is SandboxMode.BEST_EFFORT
    assert result.metrics.sandbox.missing == ["network"]
    seen = json.loads((settings.data_dir / WORKSPACE / "outputs" / "ran.json").read_text())
    assert seen == "FileNotFoundError"  # the server's secret, next to the workspaces, is not there
