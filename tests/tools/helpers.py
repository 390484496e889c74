"""Process and filesystem probes shared by the tool runner tests."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from tests.waiting import eventually


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its mtime and size, for 'untouched' checks."""
    return {
        str(path.relative_to(root)): (path.lstat().st_mtime_ns, path.lstat().st_size)
        for path in sorted(root.rglob("*"))
    }


def session_members(session: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getsid(int(name)) == session:
                    found.append(int(name))
            except OSError:
                continue
    return found


def alive(pids: list[int]) -> list[int]:
    """Pids that still exist, zombies included (a zombie keeps its /proc entry)."""
    return [pid for pid in pids if Path(f"/proc/{pid}").exists()]


async def wait_for_file(path: Path) -> None:
    await eventually(path.exists, what=f"{path} never appeared")


# Forks twice (once escaping its session), says "ready", then spins until killed.
SPIN = """
import os, time
for escape in (False, True):
    if os.fork() == 0:
        if escape:
            os.setsid()  # leaves the run's session and process group
        while True:
            pass
open("outputs/ready", "w").write(str(os.getpid()))
while True:
    time.sleep(0.01)
"""


async def host_pids_once_ready(workspace: Path, root: int | None = None) -> list[int]:
    """The run's host pids, once the script wrote outputs/ready: every descendant of `root` (this
    process by default) but the fork server, which stays. Forked by the fork server, a run's
    processes carry the fork server's command line, not their script's."""
    await wait_for_file(workspace / "outputs" / "ready")
    return run_processes(root or os.getpid())


def run_processes(root: int) -> list[int]:
    """Tool-run processes started by `root`: launchers it started itself, or forked by its fork
    server, with everything below them (setsid or not: a new session keeps its parent). Other
    children of `root` (a test sshd, a browser driver) and the fork server itself do not count."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(name))
    todo: list[int] = []
    for pid in children.get(root, []):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"tools/zygote.py" in cmdline:
            todo += children.get(pid, [])
        elif b"tools/launcher.py" in cmdline:
            todo.append(pid)
    found: list[int] = []
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        found.append(pid)
    return sorted(found)


def processes_mentioning(text: str) -> list[int]:
    """Host pids whose command line contains `text` (a run's processes all name their script)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(name))
    return found


@functools.cache
def namespaces_supported() -> bool:
    """Whether this machine can run isolated at all, asked of util-linux rather than of the code
    under test: a broken isolation must fail the isolation tests, not skip them."""
    try:
        done = subprocess.run(
            ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "true"],
            capture_output=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0
