"""The write quota: how much one run may add to its workspace, and removing what it wrote beyond.

RLIMIT_FSIZE caps each file a run writes, not their number: a run writing many capped files
could fill the disk. So, per run:

1. Before it starts, one bounded walk of the workspace measures its usage (bytes and entries);
   the run's allowance is the per-run quota, or what is left of the workspace's quota if that is
   less. A workspace already at its quota runs nothing.
2. While it runs, a watchdog in the server measures what it has added under the writable dirs
   (`inputs/`, `outputs/`: the only ones a confined run can write) and stops it once it is over.
   Each walk gives up as soon as the count is over, so its cost is bounded by the allowance.
3. After it ends (stopped or not: a run can write its burst between two looks), what it created
   or grew is kept in the order it was written (oldest mtime first) up to the first file that
   does not fit the allowance; from there on, files it created are removed (with the folders it
   created that are left holding nothing kept) and files it grew are cut back to their size
   before the run (an appended log keeps its past). Untouched files are never touched.

Sizes are charged as the larger of the apparent size and the allocated blocks, so neither a
sparse file nor many tiny files slip under the count. Growth is charged, deletions are not
credited (a run cannot churn its way past the quota). Two runs writing in one workspace at once
each count the other's writes as their own: the workspace stays within its quota, and one of
them may be stopped early.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from talkative.tools.schemas import ToolLimits

WRITABLE_DIRS = ("inputs", "outputs")
_WRITABLE_PREFIXES = tuple(f"/{name}/" for name in WRITABLE_DIRS)  # as `measure` walks them
WATCH_INTERVAL_S = 0.1


@dataclass(frozen=True, slots=True)
class Entry:
    mtime_ns: int
    ctime_ns: int
    size: int
    ino: int
    charge: int  # bytes counted against the quota (0 for a folder)
    is_dir: bool


Snapshot = dict[str, Entry]  # workspace-relative posix path -> what was there


@dataclass(frozen=True, slots=True)
class Allowance:
    """What one run may add: bytes and entries (files, folders, links)."""

    bytes: int
    files: int
    reason: str  # which quota sets it, for the error message

    @property
    def exhausted(self) -> bool:
        return self.bytes <= 0 or self.files <= 0


@dataclass(slots=True)
class Growth:
    bytes: int = 0
    files: int = 0

    def over(self, allowance: Allowance) -> bool:
        return self.bytes > allowance.bytes or self.files > allowance.files


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What the run added (before anything was removed), and what was removed to fit its allowance."""

    written_bytes: int
    written_files: int
    exceeded: bool
    removed: list[str] = field(default_factory=list)
    # Used all of its allowance: a run that then failed was most likely refused a write (a file
    # is capped at the allowance too), and the quota is the cause to report.
    full: bool = False


def _entry(info: os.stat_result, is_dir: bool) -> Entry:
    charge = 0 if is_dir else max(info.st_size, info.st_blocks * 512)
    return Entry(info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino, charge, is_dir)


def _walk(root: Path, prefix: str) -> Iterator[tuple[str, Entry]]:
    """Every entry under `root` (symlinks not followed), as (workspace-relative path, entry)."""
    stack = [(root, prefix)]
    while stack:
        folder, relative = stack.pop()
        try:
            with os.scandir(folder) as entries:
                found = list(entries)
        except OSError:  # removed meanwhile, or not a folder
            continue
        for item in found:
            try:
                info = item.stat(follow_symlinks=False)
            except OSError:
                continue
            is_dir = item.is_dir(follow_symlinks=False)
            path = f"{relative}/{item.name}"
            yield path, _entry(info, is_dir)
            if is_dir:
                stack.append((Path(item.path), path))


def snapshot(workspace: Path, limit: int | None = None) -> Snapshot:
    """What is under the writable dirs; stops after `limit` entries (None: all of them)."""
    found: Snapshot = {}
    for name in WRITABLE_DIRS:
        top = workspace / name
        if top.is_symlink() or not top.is_dir():
            continue
        for path, entry in _walk(top, name):
            found[path] = entry
            if limit is not None and len(found) >= limit:
                return found
    return found


def usage(workspace: Path, limits: ToolLimits) -> tuple[int, int]:
    """What the whole workspace holds, charged as a run's writes are (bytes, entries); the walk
    stops once it is past the entry quota."""
    used_bytes = used_files = 0
    for _path, entry in _walk(workspace, ""):
        used_bytes += entry.charge
        used_files += 1
        if used_files > limits.workspace_quota_files:
            break
    return used_bytes, used_files


def measure(workspace: Path, limits: ToolLimits) -> tuple[Allowance, Snapshot]:
    """Before a run, in one walk of the workspace: the run's allowance (the per-run quota, or what
    the workspace's quota leaves if less) and what the writable dirs hold.

    The walk stops once the workspace is known to be over its entry quota (nothing may run then)."""
    used_bytes = used_files = 0
    before: Snapshot = {}
    for path, entry in _walk(workspace, ""):
        used_bytes += entry.charge
        used_files += 1
        if used_files > limits.workspace_quota_files:
            break
        if path.startswith(_WRITABLE_PREFIXES):
            before[path.removeprefix("/")] = entry
    left_bytes = limits.workspace_quota_bytes - used_bytes
    left_files = limits.workspace_quota_files - used_files
    if left_bytes < limits.write_quota_bytes or left_files < limits.write_quota_files:
        reason = (
            f"the workspace's quota of {limits.workspace_quota_bytes} bytes and "
            f"{limits.workspace_quota_files} files ({used_bytes} bytes and {used_files} files in use)"
        )
        budget = Allowance(
            min(left_bytes, limits.write_quota_bytes), min(left_files, limits.write_quota_files), reason
        )
    else:
        reason = f"the run's quota of {limits.write_quota_bytes} bytes and {limits.write_quota_files} files"
        budget = Allowance(limits.write_quota_bytes, limits.write_quota_files, reason)
    return budget, before


def _added(before: Snapshot, path: str, entry: Entry) -> tuple[int, bool] | None:
    """(bytes charged, new entry?) for what the run did to `path`; None if it did not add to it."""
    old = before.get(path)
    if old is None or old.ino != entry.ino or old.is_dir != entry.is_dir:
        return entry.charge, True
    if entry.charge > old.charge:
        return entry.charge - old.charge, False
    return None


def growth(before: Snapshot, after: Snapshot) -> Growth:
    total = Growth()
    for path, entry in after.items():
        added = _added(before, path, entry)
        if added is not None:
            total.bytes += added[0]
            total.files += added[1]
    return total


async def watch(workspace: Path, before: Snapshot, budget: Allowance) -> None:
    """Returns once the run has added more than `budget` under the writable dirs."""
    limit = len(before) + budget.files + 1  # enough to see it over, never a walk of everything
    while True:
        await asyncio.sleep(WATCH_INTERVAL_S)
        now = await asyncio.to_thread(snapshot, workspace, limit)
        if growth(before, now).over(budget):
            return


def enforce(workspace: Path, before: Snapshot, after: Snapshot, budget: Allowance) -> Enforcement:
    """Keeps what the run wrote, oldest first, while it fits `budget`; removes the rest."""
    added: list[tuple[int, str, int, bool]] = []  # (mtime, path, bytes, new?): files created or grown
    new_dirs: set[str] = set()
    total = Growth()
    capped = False  # a file reached the size cap the allowance set (see service.run_tool)
    for path, entry in after.items():
        change = _added(before, path, entry)
        if change is None:
            continue
        total.bytes += change[0]
        total.files += change[1]
        if entry.is_dir:
            new_dirs.add(path)
        else:
            added.append((entry.mtime_ns, path, *change))
            capped = capped or entry.size >= budget.bytes
    if not total.over(budget):
        full = capped or total.bytes >= budget.bytes or total.files >= budget.files
        return Enforcement(total.bytes, total.files, exceeded=False, full=full)
    kept = Growth()
    kept_dirs: set[str] = set()
    doomed: list[str] = []
    grown: list[str] = []
    for _mtime, path, cost, is_new in sorted(added):
        parents = [p for p in _parents(path) if p in new_dirs and p not in kept_dirs]
        files = kept.files + int(is_new) + len(parents)
        if not doomed and not grown and kept.bytes + cost <= budget.bytes and files <= budget.files:
            kept.bytes, kept.files = kept.bytes + cost, files
            kept_dirs.update(parents)
        elif is_new:
            doomed.append(path)
        else:
            grown.append(path)
    root = Path(os.path.realpath(workspace))
    removed = [path for path in doomed if _remove_file(root, path)]
    # A file the run grew goes back to its size before the run (an appended log keeps its past).
    removed += [path for path in grown if _truncate(root, path, before[path].size)]
    # Folders the run created that hold nothing kept: deepest first, whatever is left inside.
    for path in sorted(new_dirs - kept_dirs, key=lambda p: p.count("/"), reverse=True):
        if _remove_tree(root, path):
            removed.append(path)
    return Enforcement(total.bytes, total.files, exceeded=True, removed=sorted(removed), full=True)


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:index]) for index in range(2, len(parts))]  # below inputs/, outputs/


def _inside(root: Path, path: str) -> Path | None:
    """`root/path` if its folder still resolves inside the workspace (no symlinked parent)."""
    target = root / path
    parent = os.path.realpath(target.parent)
    return target if os.path.commonpath([root, parent]) == str(root) else None


def _remove_file(root: Path, path: str) -> bool:
    target = _inside(root, path)
    if target is None:
        return False
    try:
        target.unlink()
    except OSError:
        return False
    return True


def _truncate(root: Path, path: str, size: int) -> bool:
    target = _inside(root, path)
    if target is None or target.is_symlink():
        return False
    try:
        os.truncate(target, size)
    except OSError:
        return False
    return True


def _remove_tree(root: Path, path: str) -> bool:
    target = _inside(root, path)
    if target is None or target.is_symlink() or not target.is_dir():
        return False
    shutil.rmtree(target, ignore_errors=True)
    return not target.exists()
