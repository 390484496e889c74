"""Bounding how many processes one tool run may create (fork-bomb containment).

RLIMIT_NPROC alone does not work for us: it is not enforced for root (which the server is here),
and for other users it counts every process of the uid, not of one run. So, in order:

1. A `pids` cgroup per run (cgroup v1 `pids` hierarchy, or v2 with the `pids` controller
   delegated to the server's cgroup). The kernel refuses the fork beyond `pids.max`, so nothing
   can outrun it, and `setsid()` does not leave it. Chosen on this machine: root can create
   cgroups in the v1 `pids` hierarchy mounted at /sys/fs/cgroup/pids.
2. Otherwise a watchdog in the server (see `execution.py`) counts the run's session in /proc and
   stops the run when it exceeds the limit. It is best effort: it polls, and a process that calls
   `setsid()` leaves the session it counts (the launcher still kills and reaps it at the end).

Not chosen: dropping to an unprivileged uid would make RLIMIT_NPROC bite, but the workspaces are
owned by the server's uid and all runs of one uid would share a single count.

The server moves the launcher in while it starts; the launcher checks (and joins itself if need
be) before it forks, so the script always starts inside the cgroup.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from talkative.tools.launcher import list_processes

log = logging.getLogger(__name__)
PREFIX = "talkative-"


def find_pids_parent(mountinfo: str, self_cgroup: str) -> Path | None:
    """Where this process may create pids cgroups, from /proc/self/{mountinfo,cgroup} text."""
    own_v1 = own_v2 = None
    for line in self_cgroup.splitlines():
        hierarchy, controllers, path = line.split(":", 2)
        if hierarchy == "0" and not controllers:
            own_v2 = path
        elif "pids" in controllers.split(","):
            own_v1 = path
    v2_parent = None
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) < 5 or len(rest) < 3:
            continue
        root, mountpoint, fstype, options = fields[3], fields[4], rest[0], rest[2]
        if fstype == "cgroup" and "pids" in options.split(",") and own_v1 is not None:
            return _under(mountpoint, root, own_v1)  # v1 pids present: v2 cannot have it
        if fstype == "cgroup2" and own_v2 is not None:
            v2_parent = _under(mountpoint, root, own_v2)
    return v2_parent


def _under(mountpoint: str, root: str, own: str) -> Path:
    relative = own[len(root) :] if own.startswith(root) else own
    return Path(mountpoint) / relative.lstrip("/")


def _enable_v2_pids(parent: Path) -> bool:
    controllers = parent / "cgroup.subtree_control"
    if not controllers.exists():
        return True  # v1: every child has the controller
    if "pids" in controllers.read_text().split():
        return True
    try:  # refused unless delegated (a v2 cgroup holding processes cannot enable controllers)
        controllers.write_text("+pids")
    except OSError:
        return False
    return True


@functools.cache
def pids_parent() -> Path | None:
    """The usable parent cgroup, found once per server process; None means watchdog mode."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
        self_cgroup = Path("/proc/self/cgroup").read_text()
        parent = find_pids_parent(mountinfo, self_cgroup)
        if parent is None or not _enable_v2_pids(parent):
            raise OSError("no pids cgroup controller available")
        _remove_stale(parent)
    except OSError as exc:
        log.warning("tool runner: %s; fork bombs are bounded by the watchdog only", exc)
        return None
    return parent


def _remove_stale(parent: Path) -> None:
    """Cages left by a server that died mid-run (rmdir only succeeds once they are empty)."""
    for entry in parent.glob(f"{PREFIX}*"):
        owner = entry.name.removeprefix(PREFIX).split("-", 1)[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                entry.rmdir()
            except OSError:
                continue


@dataclass(frozen=True, slots=True)
class ProcessCage:
    path: Path

    def members(self) -> list[int]:
        try:
            return [int(pid) for pid in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def limit_hits(self) -> int:
        """How many forks the kernel refused because of pids.max."""
        try:
            for line in (self.path / "pids.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def kill_all(self) -> None:
        for _ in range(100):
            members = self.members()
            if not members:
                return
            for pid in members:
                try:
                    os.kill(pid, 9)
                except OSError:
                    continue
            time.sleep(0.005)

    def remove(self) -> None:
        self.kill_all()
        for _ in range(100):  # zombies keep a cgroup busy until their parent reaps them
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)
        log.warning("tool runner: could not remove cgroup %s", self.path)


def open_cage(max_processes: int) -> ProcessCage | None:
    """A fresh pids cgroup allowing `max_processes` tasks, or None when cgroups are unavailable."""
    parent = pids_parent()
    if parent is None:
        return None
    path = parent / f"{PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(max_processes))
    except OSError as exc:
        log.warning("tool runner: cannot create cgroup %s: %s", path, exc)
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return ProcessCage(path)


def session_size(session: int) -> int:
    """Live processes in `session` (the watchdog's measure when there is no cage)."""
    return sum(1 for _pid, _ppid, _pgrp, sid, _threads in list_processes() if sid == session)
