"""The runner's building blocks: cgroup discovery, bounded capture, report parsing, launcher."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from talkative.tools import cage as cages
from talkative.tools.capture import StreamCapture
from talkative.tools.execution import LAUNCHER
from talkative.tools.outcome import parse_report
from talkative.tools.schemas import MiB, ToolErrorCode, ToolLimits
from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript

V1_MOUNTS = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V2_MOUNTS = "30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
CONTAINER_V1 = "40 31 0:36 /docker/abc /sys/fs/cgroup/pids ro - cgroup cgroup rw,pids\n"


@pytest.mark.parametrize(
    ("mountinfo", "self_cgroup", "expected"),
    [
        (V1_MOUNTS, "8:pids:/\n4:memory:/x\n0::/\n", "/sys/fs/cgroup/pids"),
        (V1_MOUNTS, "8:pids:/jobs/a\n0::/\n", "/sys/fs/cgroup/pids/jobs/a"),
        (CONTAINER_V1, "8:pids:/docker/abc\n", "/sys/fs/cgroup/pids"),
        (V2_MOUNTS, "0::/system.slice/talkative.service\n", "/sys/fs/cgroup/system.slice/talkative.service"),
        (V1_MOUNTS.replace("rw,pids", "rw,cpu"), "4:memory:/x\n", None),
        ("", "0::/\n", None),
    ],
)
def test_finds_where_pids_cgroups_can_be_created(
    mountinfo: str, self_cgroup: str, expected: str | None
) -> None:
    found = cages.find_pids_parent(mountinfo, self_cgroup)

    assert (str(found) if found else None) == expected


@pytest.mark.skipif(cages.pids_parent() is None, reason="no pids cgroup here")
def test_cage_is_created_limited_and_removed() -> None:
    cage = cages.open_cage(7)
    assert cage is not None

    assert (cage.path / "pids.max").read_text().strip() == "7"
    assert cage.members() == []
    cage.remove()
    assert not cage.path.exists()


def test_capture_keeps_head_and_tail_within_the_cap() -> None:
    capture = StreamCapture(10, keep_tail=True)
    for chunk in (b"0123456", b"789ab", b"cdefghijklmnop", b"qrs"):
        capture.feed(chunk)

    assert capture.head() == b"0123456789"
    assert capture.last() == b"jklmnopqrs"
    assert capture.total == 29 and capture.truncated


def test_capture_below_the_cap_is_complete() -> None:
    capture = StreamCapture(10)
    capture.feed(b"abc")

    assert (capture.head(), capture.last(), capture.truncated) == (b"abc", b"abc", False)


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        (b'log\n{"ok": true, "data": 1}\n\n  \n', {"ok": True, "data": 1}),
        (b'{"ok": false}', {"ok": False}),
        (b'{"ok": true}\nlast words\n', None),
        (b'{"data": 1}\n', None),
        (b"[1, 2]\n", None),
        (b'{"ok": tru\n', None),
        (b"", None),
        (b'\xff\xfe{"ok": true}\n', None),
    ],
)
def test_report_is_the_last_non_empty_line(stdout: bytes, expected: object) -> None:
    assert parse_report(stdout) == expected


def test_launcher_fails_closed_when_it_cannot_enter_its_cage(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("open('ran', 'w')\n")
    config = ToolLimits().model_dump() | {"cage": str(tmp_path / "no-such-cgroup")}

    done = subprocess.run(
        [sys.executable, "-E", "-s", "-B", str(LAUNCHER), json.dumps(config), str(script)],
        cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip

    assert done.returncode == 125
    assert "sandbox setup failed" in done.stderr
    assert not (tmp_path / "ran").exists()


async def test_rlimits_are_applied_to_the_script(workspace: Path, write_script: WriteScript) -> None:
    command = write_script(
        "limits.py",
        """
        import json, resource as r
        names = ["CPU", "AS", "FSIZE", "NOFILE", "NPROC"]
        print(json.dumps({n: r.getrlimit(getattr(r, "RLIMIT_" + n)) for n in names}))
        """,
    )
    limits = ToolLimits(cpu_s=7, memory_bytes=300 * MiB, file_size_bytes=2 * MiB, open_files=64)

    result = await run_tool(workspace=workspace, command=command, limits=limits)

    seen = json.loads(result.stdout)
    assert seen["CPU"] == [7, 8]
    assert seen["AS"] == [300 * MiB] * 2
    assert seen["FSIZE"] == [2 * MiB] * 2
    assert seen["NOFILE"] == [64, 64]
    assert seen["NPROC"][0] >= limits.max_processes


async def test_runs_do_not_interfere_when_concurrent(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("echo.py", "import sys, time\ntime.sleep(0.2)\nprint(sys.argv[1])\n")

    results = await asyncio.gather(
        *(run_tool(workspace=workspace, command=f"{command} run-{i}") for i in range(6))
    )

    assert [r.stdout for r in results] == [f"run-{i}\n" for i in range(6)]


async def test_sandbox_setup_failure_is_reported_as_spawn_failed(
    workspace: Path, write_script: WriteScript, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = cages.ProcessCage(tmp_path / "vanished-cgroup")
    monkeypatch.setattr(cages, "open_cage", lambda _max: broken)
    command = write_script("never.py", "open('outputs/ran', 'w')\n")

    result = await run_tool(workspace=workspace, command=command)

    assert result.error is not None and result.error.code == ToolErrorCode.SPAWN_FAILED
    assert "sandbox setup failed" in result.error.message
    assert not (workspace / "outputs" / "ran").exists()
