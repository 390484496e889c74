"""Process and filesystem probes shared by the tool runner tests."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path


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


async def wait_for_file(path: Path, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        await asyncio.sleep(0.01)
