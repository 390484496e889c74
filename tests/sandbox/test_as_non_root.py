"""The corpus once more, as an ordinary user: uid 65534 runs the launcher under Debian's Python.

The sandbox then rests on an unprivileged user namespace (the sandbox uid inside stands for the
user's own outside). The venv's interpreter lives under /root (0700), out of that user's reach,
and the launcher with its sandbox modules is stdlib-only, so the system Python runs the same
files. Every layer is asked for: if one cannot be set up, the launcher exits 125 and the test fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from talkative.tools import isolation
from tests.sandbox import corpus
from tests.sandbox.test_corpus import LIMITS

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3.11"
SANDBOX_FILES = ("launcher.py", "confine.py", "layout.py", "seccomp.py")


@pytest.fixture
def as_nobody(data_dir: Path) -> Path:
    """The data dir and a copy of the launcher, owned by the ordinary user."""
    tools = data_dir.parent / "tools"
    tools.mkdir()
    for name in SANDBOX_FILES:
        shutil.copy(isolation.LAUNCHER.with_name(name), tools / name)
    for directory, _dirs, files in os.walk(data_dir.parent):
        for path in [directory, *(os.path.join(directory, name) for name in files)]:
            os.lchown(path, NOBODY, NOBODY)
    return tools


def _run(data: Path, tools: Path, name: str, **targets: Any) -> subprocess.CompletedProcess[str]:
    workspace = data / "workspaces" / "a"
    script = workspace / "skills" / "demo" / "scripts" / f"{name}.py"
    script.write_text(textwrap.dedent(corpus.script(name, **targets)))
    os.lchown(script, NOBODY, NOBODY)
    isolate = isolation.isolate_config(workspace, [data])
    isolate["binds"] = []  # the system Python needs nothing but /usr, which the launcher binds itself
    config = {**isolation.launcher_config(LIMITS, None, isolate), "path": [], "server_pid": None}
    command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", SYSTEM_PYTHON,
               "-E", "-s", "-S", "-B", str(tools / "launcher.py"), json.dumps(config), str(script)]  # fmt: skip
    return subprocess.run(
        command, cwd=workspace, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, capture_output=True,
        text=True, timeout=LIMITS.timeout_s + 10, check=False,
    )  # fmt: skip


def test_network_is_refused(data_dir: Path, as_nobody: Path, listener: int) -> None:
    done = _run(data_dir, as_nobody, "network", listener_port=listener)

    assert done.returncode == 0, done.stderr
    corpus.check_network(corpus.last_json(done.stdout))


def test_host_files_and_secrets_are_unreadable(data_dir: Path, as_nobody: Path) -> None:
    from tests.sandbox.test_corpus import read_paths

    paths = read_paths(data_dir)
    done = _run(data_dir, as_nobody, "reads", read_paths=paths, data_dir=str(data_dir))

    assert done.returncode == 0, done.stderr
    seen = corpus.last_json(done.stdout)
    corpus.check_reads(seen, read_paths=paths, uid=NOBODY)
    # The fleet key is this very user's file on the host: only the sandbox keeps it out of reach.
    assert os.stat(data_dir.parent / "fleet-key").st_uid == NOBODY


def test_only_inputs_outputs_and_scratch_are_writable(data_dir: Path, as_nobody: Path) -> None:
    outside = data_dir.parent / "outside"
    outside.mkdir()
    os.chown(outside, NOBODY, NOBODY)

    done = _run(data_dir, as_nobody, "writes", outside_dir=str(outside), data_dir=str(data_dir))

    assert done.returncode == 0, done.stderr
    corpus.check_writes(corpus.last_json(done.stdout))
    assert list(outside.iterdir()) == []
    assert "requires_approval: true" in (data_dir / "workspaces/a/skills/other/SKILL.md").read_text()


def test_no_privileges_namespaces_or_raw_sockets(data_dir: Path, as_nobody: Path) -> None:
    done = _run(data_dir, as_nobody, "escape")

    assert done.returncode == 0, done.stderr
    corpus.check_escape(corpus.last_json(done.stdout))


def test_hogs_and_a_daemon_are_bounded(data_dir: Path, as_nobody: Path) -> None:
    bomb = _run(data_dir, as_nobody, "fork_bomb")
    memory = _run(data_dir, as_nobody, "memory_hog")
    cpu = _run(data_dir, as_nobody, "time_hog")
    daemon = _run(data_dir, as_nobody, "daemon")

    outputs = data_dir / "workspaces" / "a" / "outputs"
    assert bomb.returncode != 0 and int((outputs / "forks").read_text()) <= LIMITS.max_processes
    assert corpus.last_json(memory.stdout) == {"allocated": 0}
    assert cpu.returncode == -9
    assert daemon.returncode == 0 and "parent done" in daemon.stdout, daemon.stderr
    assert (outputs / "heartbeat").exists(), "the daemon never started"
    assert corpus.run_is_over(outputs), "the daemon outlived its run"  # so nobody writes it any more
