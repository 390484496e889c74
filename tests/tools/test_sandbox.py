"""The sandbox escape corpus: every attempt is refused or contained, host and workspace untouched."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from talkative.tools import cage as cages
from talkative.tools import execution
from talkative.tools.schemas import MiB, ToolErrorCode, ToolLimits
from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript
from tests.tools.helpers import alive, session_members, tree, wait_for_file
from tests.waiting import within

OK = "python skills/demo/scripts/ok.py"
FAST = ToolLimits(timeout_s=1.0, max_processes=16)


def _escapes(outside: Path) -> list[tuple[str | list[str], ToolErrorCode]]:
    outside_code, refused, missing = (
        ToolErrorCode.PATH_OUTSIDE_WORKSPACE,
        ToolErrorCode.COMMAND_REFUSED,
        ToolErrorCode.SCRIPT_NOT_FOUND,
    )
    return [
        ("python ../outside/evil.py", outside_code),
        (f"python {outside}/evil.py", outside_code),
        ("python evil-link.py", outside_code),  # symlink in the workspace pointing out
        ("python skills/../../outside/evil.py", outside_code),
        (f"{OK} --in ../outside/secret.txt", outside_code),
        (f"{OK} --in=../outside/secret.txt", outside_code),
        (f"{OK} --in={outside}/secret.txt", outside_code),
        (f"{OK} -i../outside/secret.txt", outside_code),
        (f"{OK} /etc/passwd", outside_code),
        (f"{OK} inputs/out-link/secret.txt", outside_code),  # symlinked directory
        (f"{OK} out-link", outside_code),  # symlink named without any slash
        (f"{OK} ..", outside_code),
        (f"{OK} ~/../outside/secret.txt", outside_code),
        (f"{OK} ~root/.ssh/id_rsa", outside_code),
        (f"{OK} a.json,../outside/secret.txt", outside_code),
        (f"{OK}; touch pwned", refused),
        (f"{OK} | tee pwned", refused),
        (f"{OK} && touch pwned", refused),
        (f"{OK} & touch pwned", refused),
        (f"{OK} $(touch pwned)", refused),
        (f"{OK} `touch pwned`", refused),
        (f"{OK} > pwned", refused),
        (f"{OK} < /etc/passwd", refused),
        (f"{OK} $HOME", refused),
        (f"{OK}\ntouch pwned", refused),
        (["python", "skills/demo/scripts/ok.py", "a\x00b"], refused),
        (["python", "skills/demo/scripts/ok.py", "a;b"], refused),
        ("bash -c 'touch pwned'", refused),
        ("sh skills/demo/scripts/ok.py", refused),
        ("/usr/bin/python3 skills/demo/scripts/ok.py", refused),
        ('python -c \'open("pwned", "w")\'', refused),
        ("python -m http.server", refused),
        ("python inputs/inbox.json", refused),
        ("python 'unbalanced", refused),
        ("python", refused),
        ("", refused),
        ([], refused),
        ("python skills/demo/scripts/missing.py", missing),
        ("python skills/demo/scripts/dir.py", missing),
    ]


@pytest.fixture
def escape_workspace(workspace: Path, outside: Path) -> Path:
    (workspace / "evil-link.py").symlink_to(outside / "evil.py")
    (workspace / "inputs" / "out-link").symlink_to(outside)
    (workspace / "out-link").symlink_to(outside / "secret.txt")
    (workspace / "skills" / "demo" / "scripts" / "dir.py").mkdir()
    return workspace


async def test_escape_corpus_is_refused_and_nothing_runs(escape_workspace: Path, outside: Path) -> None:
    before = (tree(escape_workspace), tree(outside))
    for command, code in _escapes(outside):
        result = await run_tool(workspace=escape_workspace, command=command)

        assert not result.ok, command
        assert result.error is not None and result.error.code == code, (command, result.error)
        assert result.exit_code is None, command
        assert isinstance(result.command, list)
        json.dumps(result.model_dump())
    assert (tree(escape_workspace), tree(outside)) == before
    assert not Path("pwned").exists()


async def test_infinite_loop_is_killed_with_its_whole_tree(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script(
        "spin.py",
        """
        import os, time
        pids = []
        for escape in (False, True):
            pid = os.fork()
            if pid == 0:
                if escape:
                    os.setsid()  # tries to leave the run's session and group
                while True:
                    pass
            pids.append(pid)
        with open("outputs/pids.json", "w") as out:
            out.write(__import__("json").dumps([os.getpid(), os.getsid(0), *pids]))
        while True:
            time.sleep(0.01)
        """,
    )

    result = await within(
        run_tool(workspace=workspace, command=command, limits=FAST), what="the run outlived its timeout"
    )

    assert result.error is not None and result.error.code == ToolErrorCode.TIMEOUT
    assert not result.ok
    worker, session, *children = json.loads((workspace / "outputs/pids.json").read_text())
    assert alive([worker, session, *children]) == []  # no process, no zombie
    assert session_members(session) == []


async def test_cancel_event_kills_the_run(workspace: Path, write_script: WriteScript) -> None:
    command = write_script(
        "sleeps.py",
        """
        import json, os, time
        child = os.fork() or time.sleep(60)
        with open("outputs/pids.tmp", "w") as out:
            out.write(json.dumps([os.getsid(0), child]))
        os.replace("outputs/pids.tmp", "outputs/pids.json")  # the test waits for this name
        time.sleep(60)
        """,
    )
    cancel = asyncio.Event()
    task = asyncio.create_task(run_tool(workspace=workspace, command=command, cancel=cancel))
    await wait_for_file(workspace / "outputs/pids.json")

    cancel.set()
    result = await within(task, what="the cancelled run went on")

    assert result.error is not None and result.error.code == ToolErrorCode.CANCELLED
    session, child = json.loads((workspace / "outputs/pids.json").read_text())
    assert alive([session, child]) == []
    assert session_members(session) == []


async def test_cancelling_the_caller_task_also_kills_the_run(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script(
        "sleeps.py",
        """
        import os, time
        open("outputs/sid.tmp", "w").write(str(os.getsid(0)))
        os.replace("outputs/sid.tmp", "outputs/sid")
        time.sleep(60)
        """,
    )
    task = asyncio.create_task(run_tool(workspace=workspace, command=command))
    await wait_for_file(workspace / "outputs/sid")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert session_members(int((workspace / "outputs/sid").read_text())) == []


BOMB = """
import os, sys, time
forks = 0
try:
    for _ in range(3000):
        if os.fork() == 0:
            with open("outputs/children", "a") as out:
                out.write(f"{os.getpid()}\\n")
            time.sleep(30)
            os._exit(0)
        forks += 1
finally:
    open("outputs/forks", "w").write(f"{forks} {os.getsid(0)}")
"""


def _children(workspace: Path) -> list[int]:
    path = workspace / "outputs" / "children"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


needs_cgroup = pytest.mark.skipif(cages.pids_parent() is None, reason="no pids cgroup here")


@needs_cgroup
async def test_fork_bomb_is_capped_by_the_pids_cgroup(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("bomb.py", BOMB)

    result = await run_tool(workspace=workspace, command=command, limits=FAST)

    assert result.error is not None and result.error.code == ToolErrorCode.PROCESS_LIMIT
    assert result.metrics.process_limit_hit
    assert "BlockingIOError" in result.stderr  # the kernel refused the fork
    forks, session = map(int, (workspace / "outputs/forks").read_text().split())
    assert forks <= FAST.max_processes - 2  # the launcher and the worker count too
    assert alive(_children(workspace)) == []
    assert session_members(session) == []
    parent = cages.pids_parent()
    assert parent is not None
    assert list(parent.glob(f"{cages.PREFIX}{os.getpid()}-*")) == []  # cage removed


@needs_cgroup
async def test_exponential_fork_bomb_is_contained_until_the_timeout(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script(
        "bomb2.py",
        """
        import os, time
        open("outputs/sid", "w").write(str(os.getsid(0)))
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
        """,
    )

    result = await run_tool(workspace=workspace, command=command, limits=FAST)

    assert result.error is not None and result.error.code == ToolErrorCode.TIMEOUT
    assert result.metrics.process_limit_hit
    assert session_members(int((workspace / "outputs/sid").read_text())) == []


async def test_fork_bomb_is_stopped_by_the_watchdog_without_cgroups(
    workspace: Path, write_script: WriteScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cages, "open_cage", lambda _max: None)
    command = write_script("bomb.py", BOMB)
    limits = ToolLimits(timeout_s=20, max_processes=16)  # the watchdog, not the clock, must stop it

    result = await run_tool(workspace=workspace, command=command, limits=limits)

    assert result.error is not None and result.error.code == ToolErrorCode.PROCESS_LIMIT
    children = _children(workspace)
    assert limits.max_processes - 2 <= len(children) < 3000
    assert not (workspace / "outputs" / "forks").exists()  # killed before its loop could finish
    assert alive(children) == []


async def test_memory_bomb_fails_inside_the_child(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("hog.py", "blob = bytearray(4 * 1024 ** 3)\nprint(len(blob))\n")

    result = await run_tool(workspace=workspace, command=command, limits=ToolLimits(memory_bytes=256 * MiB))

    assert result.error is not None and result.error.code == ToolErrorCode.NONZERO_EXIT
    assert "MemoryError" in result.stderr
    after = await run_tool(workspace=workspace, command=write_script("hi.py", "print('hi')"))
    assert after.ok and after.stdout == "hi\n"  # the server carries on


async def test_huge_output_is_capped_and_returns_promptly(workspace: Path, write_script: WriteScript) -> None:
    command = write_script(
        "chatty.py",
        """
        import json, sys
        line = b"x" * 1023 + b"\\n"
        for _ in range(100 * 1024):  # 100 MiB on stdout
            sys.stdout.buffer.write(line)
        sys.stderr.buffer.write(line * 20 * 1024)  # 20 MiB on stderr
        print(json.dumps({"ok": True, "skillName": "chatty", "data": 1}))
        """,
    )
    cap = 1_000_000  # not a multiple of any read size
    limits = ToolLimits(output_cap_bytes=cap, timeout_s=20)

    result = await run_tool(workspace=workspace, command=command, limits=limits)

    assert result.ok, result.error  # returned on its own, not stopped at the timeout
    assert len(result.stdout.encode()) == cap
    assert len(result.stderr.encode()) == cap
    assert result.metrics.stdout_truncated and result.metrics.stderr_truncated
    assert result.metrics.stdout_bytes > 100 * MiB
    assert result.skillReport == {"ok": True, "skillName": "chatty", "data": 1}


async def test_server_secrets_are_not_in_the_child_environment(
    workspace: Path, write_script: WriteScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_JWT_SECRET", "jwt-secret-value")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-value")
    monkeypatch.setenv("TALKATIVE_DATABASE_URL", "postgresql://user:pw@db/talkative")
    monkeypatch.setenv("PYTHONPATH", str(workspace / "inputs"))
    command = write_script(
        "env.py",
        """
        import json, os
        print(json.dumps({"ok": True, "data": dict(os.environ),
                          "raw": open("/proc/self/environ").read()}))
        """,
    )

    result = await run_tool(workspace=workspace, command=command)

    assert result.ok and result.skillReport is not None
    env = result.skillReport["data"]
    assert set(env) == {
        "PATH", "HOME", "LANG", "LC_ALL", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING",
        "TALKATIVE_WORKSPACE",
    }  # fmt: skip
    assert env["HOME"] == env["TALKATIVE_WORKSPACE"] == str(workspace.resolve())
    for secret in ("jwt-secret-value", "sk-test-value", "pw@db"):
        assert secret not in result.stdout


async def test_file_size_limit_stops_a_big_write(workspace: Path, write_script: WriteScript) -> None:
    command = write_script(
        "big.py",
        "with open('outputs/big.bin', 'wb') as out:\n    out.write(b'x' * (4 * 1024 * 1024))\n",
    )

    result = await run_tool(workspace=workspace, command=command, limits=ToolLimits(file_size_bytes=MiB))

    assert not result.ok
    assert result.error is not None and result.error.code == ToolErrorCode.NONZERO_EXIT
    assert "File too large" in result.stderr
    assert (workspace / "outputs" / "big.bin").stat().st_size <= MiB


async def test_cpu_limit_stops_a_busy_script(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("busy.py", "while True:\n    pass\n")

    result = await run_tool(workspace=workspace, command=command, limits=ToolLimits(cpu_s=1, timeout_s=10))

    assert result.error is not None and result.error.code == ToolErrorCode.NONZERO_EXIT
    assert result.exit_code in (-24, -9)  # SIGXCPU at the soft limit, SIGKILL at the hard one


async def test_timeout_during_interpreter_startup_leaves_nothing(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script("late.py", "open('outputs/ran', 'w')\n")

    # A new interpreter (not the warm fork server, which can finish a run this short in time).
    result = await run_tool(
        workspace=workspace, command=command, limits=ToolLimits(timeout_s=0.005), fork_server=False
    )

    assert result.error is not None and result.error.code == ToolErrorCode.TIMEOUT
    assert not (workspace / "outputs" / "ran").exists()


@needs_cgroup
async def test_a_run_cancelled_while_it_spawns_leaves_no_cage(
    workspace: Path, write_script: WriteScript, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run stopped at shutdown may be cancelled before the fork server has answered."""
    command = write_script("never.py", "open('outputs/ran', 'w')\n")
    spawning = asyncio.Event()

    async def slow_spawn(*_: object) -> object:
        spawning.set()
        await asyncio.sleep(60)  # the fork server has not answered yet
        raise AssertionError("not reached")

    monkeypatch.setattr(execution, "_spawn", slow_spawn)
    parent = cages.pids_parent()
    assert parent is not None
    before = set(parent.glob(f"{cages.PREFIX}{os.getpid()}-*"))
    task = asyncio.create_task(run_tool(workspace=workspace, command=command, limits=FAST))
    await within(spawning.wait(), what="the run never asked the fork server")
    assert set(parent.glob(f"{cages.PREFIX}{os.getpid()}-*")) - before, (
        "the run's cage exists while it spawns"
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert set(parent.glob(f"{cages.PREFIX}{os.getpid()}-*")) == before
