"""Isolated runs are still stopped and cleaned up; isolation is probed once and never faked.

Inside its PID namespace a script only knows namespace pids, so the tests find a run's host
processes by its script path, which every one of them (launcher, worker, forks) has in argv.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkative.tools import cage as cages
from talkative.tools import isolation
from talkative.tools.schemas import SandboxMode, SandboxPolicy, ToolErrorCode, ToolLimits
from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript
from tests.tools.helpers import (
    SPIN,
    alive,
    host_pids_once_ready,
    namespaces_supported,
    processes_mentioning,
    run_processes,
)
from tests.waiting import within

needs_namespaces = pytest.mark.skipif(not namespaces_supported(), reason="no Linux namespaces here")
FAST = ToolLimits(timeout_s=1.0, max_processes=16)


@needs_namespaces
async def test_infinite_loop_is_killed_at_the_timeout_with_everything_it_started(
    ws_a: Path, data_dir: Path, write_in: WriteScript
) -> None:
    command = write_in("spin.py", SPIN)

    run = asyncio.create_task(run_tool(workspace=ws_a, command=command, limits=FAST, hidden_paths=[data_dir]))
    pids = await host_pids_once_ready(ws_a)
    result = await within(run, what="the run outlived its timeout")

    assert result.error is not None and result.error.code == ToolErrorCode.TIMEOUT
    assert result.metrics.isolated
    assert (ws_a / "outputs" / "ready").read_text() == "1"  # the script was PID 1 of its namespace
    assert len(pids) == 4  # launcher, worker and both forks, as the host sees them
    assert alive(pids) == []  # no process, no zombie
    assert processes_mentioning(str(ws_a)) == [] and run_processes(os.getpid()) == []


@needs_namespaces
async def test_cancel_still_kills_an_isolated_run(ws_a: Path, data_dir: Path, write_in: WriteScript) -> None:
    command = write_in("spin.py", SPIN)
    cancel = asyncio.Event()
    run = asyncio.create_task(
        run_tool(workspace=ws_a, command=command, cancel=cancel, hidden_paths=[data_dir])
    )
    pids = await host_pids_once_ready(ws_a)

    cancel.set()
    result = await within(run, what="the cancelled run went on")

    assert result.error is not None and result.error.code == ToolErrorCode.CANCELLED
    assert result.metrics.isolated
    assert len(pids) == 4 and alive(pids) == []


BEST_EFFORT = SandboxPolicy(mode=SandboxMode.BEST_EFFORT)
BOMB = """
import os, time
forks = 0
try:
    for _ in range(3000):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        forks += 1
finally:
    open("outputs/forks", "w").write(str(forks))
"""


@needs_namespaces
@pytest.mark.skipif(cages.pids_parent() is None, reason="no pids cgroup here")
async def test_fork_bomb_is_still_capped_by_the_cgroup(
    ws_a: Path, data_dir: Path, write_in: WriteScript
) -> None:
    command = write_in("bomb.py", BOMB)

    result = await run_tool(workspace=ws_a, command=command, limits=FAST, hidden_paths=[data_dir])

    assert result.error is not None and result.error.code == ToolErrorCode.PROCESS_LIMIT
    assert result.metrics.isolated and result.metrics.process_limit_hit
    assert int((ws_a / "outputs" / "forks").read_text()) <= FAST.max_processes - 2
    assert processes_mentioning(str(ws_a)) == [] and run_processes(os.getpid()) == []


@needs_namespaces
async def test_fork_bomb_is_still_stopped_by_the_watchdog_without_cgroups(
    ws_a: Path, data_dir: Path, write_in: WriteScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cages, "open_cage", lambda _max: None)
    command = write_in("bomb.py", BOMB)
    limits = ToolLimits(timeout_s=20, max_processes=16)  # the watchdog, not the clock, must stop it

    result = await run_tool(workspace=ws_a, command=command, limits=limits, hidden_paths=[data_dir])

    # As the sandbox uid, RLIMIT_NPROC bites (root ignores it): forks fail, whatever the watchdog sees.
    assert result.error is not None and result.error.code in (
        ToolErrorCode.PROCESS_LIMIT,
        ToolErrorCode.NONZERO_EXIT,
    )
    assert result.metrics.isolated
    forks = ws_a / "outputs" / "forks"
    assert not forks.exists() or int(forks.read_text()) <= limits.max_processes
    assert processes_mentioning(str(ws_a)) == [] and run_processes(os.getpid()) == []


@needs_namespaces
@pytest.mark.parametrize("data_dir", ["var-tmp"], indirect=True)  # where it is does not matter
async def test_cpu_limit_still_stops_the_script_as_pid_1(
    ws_a: Path, data_dir: Path, write_in: WriteScript
) -> None:
    command = write_in("busy.py", "while True:\n    pass\n")
    limits = ToolLimits(cpu_s=1, timeout_s=10)

    result = await run_tool(workspace=ws_a, command=command, limits=limits, hidden_paths=[data_dir])

    # PID 1 ignores SIGXCPU (no handler), so the kernel's SIGKILL at the hard limit ends it (the
    # clock would have ended it as a TIMEOUT).
    assert result.error is not None and result.error.code == ToolErrorCode.NONZERO_EXIT
    assert result.exit_code == -9


async def test_best_effort_runs_with_the_layers_that_work_and_says_which_are_missing(
    ws_a: Path, data_dir: Path, write_in: WriteScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    nothing = isolation.SandboxStatus(layers=(), missing=dict.fromkeys(isolation.LAYERS, "not here"))
    monkeypatch.setattr(isolation, "status", lambda _policy: nothing)
    command = write_in("peek.py", f"print(open({str(data_dir / 'jwt-secret')!r}).read())\n")

    best = await run_tool(workspace=ws_a, command=command, hidden_paths=[data_dir], sandbox=BEST_EFFORT)
    required = await run_tool(workspace=ws_a, command=command, hidden_paths=[data_dir])

    assert best.ok, best.stderr
    assert best.stdout == "jwt-secret-value\n"  # really unconfined: the report does not lie
    assert not best.metrics.isolated
    assert best.metrics.sandbox is not None and best.metrics.sandbox.layers == []
    assert best.metrics.sandbox.missing == sorted(isolation.LAYERS)
    assert required.error is not None and required.error.code == ToolErrorCode.SANDBOX_UNAVAILABLE
    assert "TALKATIVE_SANDBOX=best-effort" in required.error.message and required.exit_code is None


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    isolation.reset()
    yield
    isolation.reset()


def test_a_missing_layer_is_probed_once_and_reported_once(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[tuple[str, ...]] = []

    def probe(_policy: SandboxPolicy, layers: tuple[str, ...] = isolation.LAYERS) -> dict[str, str]:
        calls.append(tuple(layers))
        return {"network": "unshare(CLONE_NEWNET): EPERM"} if "network" in layers else {}

    monkeypatch.setattr(isolation, "probe", probe)

    with caplog.at_level(logging.WARNING, logger=isolation.__name__):
        answers = [isolation.status(SandboxPolicy()) for _ in range(3)]

    assert answers[0].missing == {"network": "unshare(CLONE_NEWNET): EPERM"}
    assert answers[0].layers == ("user", "pid", "mount", "seccomp")
    assert len(calls) == 1 + len(isolation.LAYERS) + 1  # all, each alone, the working ones together
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    assert "missing network" in caplog.text and "EPERM" in caplog.text and "To fix" in caplog.text


def test_probe_checks_the_effect_not_just_the_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isolation.probe(SandboxPolicy()) == {}
    unconfined = tmp_path / "unconfined_launcher.py"  # runs the script, ignoring `isolate`
    unconfined.write_text("import runpy, sys\nsys.argv = sys.argv[2:]\nrunpy.run_path(sys.argv[0])\n")
    monkeypatch.setattr(isolation, "LAUNCHER", unconfined)

    missing = isolation.probe(SandboxPolicy())

    assert sorted(missing) == sorted(isolation.LAYERS)
    assert missing["user"] == "runs as root" and missing["network"] == "reached the host's loopback"


def test_launcher_refuses_to_run_the_script_when_isolation_fails(tmp_path: Path) -> None:
    script = tmp_path / "ws" / "s.py"
    script.parent.mkdir()
    script.write_text("open('ran', 'w')\n")
    isolate = isolation.isolate_config(script.parent, [])  # no inputs/ nor outputs/ to bind
    config = isolation.launcher_config(ToolLimits(), None, isolate)

    done = subprocess.run(
        isolation.launcher_command(config, script), cwd=script.parent, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip

    assert done.returncode == 125
    assert "isolation failed" in done.stderr
    assert not (script.parent / "ran").exists()
