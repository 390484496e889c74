"""The running server's pid file in its data dir: `talkative restore` refuses to overwrite a live
server's data. Its own module so `talkative serve` loads nothing of backup (nor Alembic)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PID_FILE_NAME = "server.pid"


def pid_file(data_dir: Path) -> Path:
    return data_dir / PID_FILE_NAME


def write_pid_file(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = pid_file(data_dir)
    path.write_text(f"{os.getpid()}\n")
    return path


def remove_pid_file(path: Path) -> None:
    """Remove the pid file if it is still ours (another server may have taken the data dir over)."""
    with contextlib.suppress(OSError, ValueError):
        if int(path.read_text().strip()) == os.getpid():
            path.unlink()


def running_server_pid(data_dir: Path) -> int | None:
    """The pid of a live server on this data dir, or None (no pid file, or a stale one)."""
    try:
        pid = int(pid_file(data_dir).read_text().strip())
    except (OSError, ValueError):
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, owned by someone else
    # A pid reused by an unrelated process after a crash (common in containers) is not our server.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid
    return pid if b"talkative" in cmdline else None
