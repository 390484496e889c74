"""Isolated runs are still stopped and cleaned up; isolation is probed once and never faked.

Inside its PID namespace a script only knows namespace pids, so the tests find a run's host
processes by its script path, which every one of them (launcher, worker, forks) has in argv.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkative.tools import cage as cages
from talkative.tools import isolation
from talkative.tools.schemas import ToolErrorCode, ToolLimits
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

needs_namespaces = pytest.mark.skipif(not namespaces_supported(), reason="no Linux namespaces here")
FAST = ToolLimits(timeout_s=1.0, max_processes=16)


@needs_namespaces
async def test_infinite_loop_is_killed_at_the_timeout_with_everything_it_started(
    ws_a: Path, data_dir: Path, write_in: WriteScript
) -> None:
    command = write_in("spin.py", SPIN)
    started = time.monotonic()

    run = asyncio.create_task(run_tool(workspace=ws_a, command=command, limits=FAST, hidden_paths=[data_dir]))
    pids = await host_pids_once_ready(ws_a)
    result = await run

    assert time.monotonic() - started < 5
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
    started = time.monotonic()

    cancel.set()
    result = await asyncio.wait_for(run, 5)

    assert time.monotonic() - started < 3
    assert result.error is not None and result.error.code == ToolErrorCode.CANCELLED
    assert result.metrics.isolated
    assert len(pids) == 4 and alive(pids) == []


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

    assert result.error is not None and result.error.code == ToolErrorCode.PROCESS_LIMIT
    assert result.metrics.isolated
    assert not (ws_a / "outputs" / "forks").exists()  # killed before its loop could finish
    assert processes_mentioning(str(ws_a)) == [] and run_processes(os.getpid()) == []


@needs_namespaces
@pytest.mark.parametrize("data_dir", ["var-tmp"], indirect=True)  # where it is does not matter
async def test_cpu_limit_still_stops_the_script_as_pid_1(
    ws_a: Path, data_dir: Path, write_in: WriteScript
) -> None:
    command = write_in("busy.py", "while True:\n    pass\n")
    limits = ToolLimits(cpu_s=1, timeout_s=10)

    result = await run_tool(workspace=ws_a, command=command, limits=limits, hidden_paths=[data_dir])

    # PID 1 ignores SIGXCPU (no handler), so the kernel's SIGKILL at the hard limit ends it.
    assert result.error is not None and result.error.code == ToolErrorCode.NONZERO_EXIT
    assert result.exit_code == -9
    assert result.metrics.duration_ms < 5000


async def test_without_namespaces_runs_go_ahead_unconfined_and_say_so(
    ws_a: Path, data_dir: Path, write_in: WriteScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolation, "available", lambda: False)
    command = write_in("peek.py", f"print(open({str(data_dir / 'jwt-secret')!r}).read())\n")

    result = await run_tool(workspace=ws_a, command=command, hidden_paths=[data_dir])

    assert result.ok, result.stderr
    assert not result.metrics.isolated
    assert result.stdout == "jwt-secret-value\n"  # really unconfined: the flag does not lie


@pytest.fixture
def fresh_probe() -> Iterator[None]:
    isolation.reset()
    yield
    isolation.reset()


def test_unavailable_namespaces_are_probed_once_and_warned_about_once(
    fresh_probe: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def failing_probe() -> str:
        calls.append(1)
        return "unshare(CLONE_NEWPID): EPERM"

    monkeypatch.setattr(isolation, "probe", failing_probe)

    with caplog.at_level(logging.WARNING, logger=isolation.__name__):
        answers = [isolation.available() for _ in range(3)]

    assert answers == [False] * 3
    assert calls == [1]
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "WITHOUT filesystem isolation" in caplog.text and "EPERM" in caplog.text


@needs_namespaces
def test_probe_checks_the_effect_not_just_the_exit_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isolation.probe() is None
    unconfined = tmp_path / "unconfined_launcher.py"  # runs the script, ignoring `isolate`
    unconfined.write_text("import runpy, sys\nsys.argv = sys.argv[2:]\nrunpy.run_path(sys.argv[0])\n")
    monkeypatch.setattr(isolation, "LAUNCHER", unconfined)

    reason = isolation.probe()

    assert reason is not None and reason.startswith("not isolated: hidden, proc, capabilities")


def test_launcher_refuses_to_run_the_script_when_isolation_fails(tmp_path: Path) -> None:
    script = tmp_path / "ws" / "s.py"
    script.parent.mkdir()
    script.write_text("open('ran', 'w')\n")
    needed = os.path.dirname(os.path.realpath(sys.executable))  # hiding it would break the run
    config = isolation.launcher_config(
        ToolLimits(), None, {"hide": [needed], "workspace": str(script.parent)}
    )

    done = subprocess.run(
        isolation.launcher_command(config, script), cwd=script.parent, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip

    assert done.returncode == 125
    assert "isolation failed" in done.stderr
    assert not (script.parent / "ran").exists()
