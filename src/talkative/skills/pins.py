"""A skill's digest: what an admin vouched for when attaching it (pure filesystem, no database).

The digest covers every file of the skill's folder (SKILL.md, scripts, assets), by relative path
and content, so a changed manifest (an approval policy flipped) or a changed script is seen.
Bytecode caches are left out, as installing leaves them out: they are machine-local and the
runner's own cache is checked against its source's hash (tools/launcher.py).
"""

from __future__ import annotations

import hashlib
import os
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

MAX_FILES = 1000  # a skill folder holding more than this is refused, not hashed
_CHUNK = 1024 * 1024
_SKIPPED_DIRS = frozenset({"__pycache__"})


class SkillTrust(StrEnum):
    TRUSTED = "trusted"  # its folder has the digest pinned when it was attached
    CHANGED = "changed"  # attached, but its files changed since: not run until re-attached
    UNPINNED = "unpinned"  # never attached by an admin (or attached before pins existed)


class Pin(NamedTuple):
    """What an admin attached: the skill folder's digest then, and whether it may reach the network."""

    digest: str
    network_allowed: bool = False


class UnhashableSkill(ValueError):
    """A skill folder that cannot be pinned: too many files, or unreadable."""


# Digests by the identity of every file in the folder: every message that plans a skill checks
# it, and hashing again is only needed once something in the folder changed. ctime is part of the
# identity because no one can set it back (mtime can be, with utime).
_DIGESTS: dict[tuple[str, tuple[tuple[str, int, int, int, int], ...]], str] = {}
_DIGESTS_MAX = 4096


def _files(folder: Path) -> list[tuple[str, os.stat_result]]:
    found: list[tuple[str, os.stat_result]] = []
    for current, dirs, files in os.walk(folder):  # does not follow symlinked folders
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in files:
            if name.endswith(".pyc"):
                continue
            path = Path(current, name)
            try:
                found.append((path.relative_to(folder).as_posix(), path.lstat()))
            except OSError as exc:
                raise UnhashableSkill(f"{path}: {exc}") from None
            if len(found) > MAX_FILES:
                raise UnhashableSkill(f"{folder} holds more than {MAX_FILES} files")
        for name in dirs:  # a symlinked folder is an entry of its own, never walked into
            link = Path(current, name)
            if link.is_symlink():
                found.append((link.relative_to(folder).as_posix(), link.lstat()))
    return sorted(found, key=lambda item: item[0])


def _hash(folder: Path, files: list[tuple[str, os.stat_result]]) -> str:
    digest = hashlib.sha256()
    for relative, info in files:
        path = folder / relative
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        if path.is_symlink():
            digest.update(b"link\0" + os.readlink(path).encode("utf-8", "surrogateescape") + b"\0")
            continue
        digest.update(b"file\0%d\0" % info.st_size)
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def skill_digest(folder: Path) -> str:
    """sha256 over the folder's files (paths and contents); raises UnhashableSkill."""
    if folder.is_symlink() or not folder.is_dir():
        raise UnhashableSkill(f"{folder} is not a folder")
    files = _files(folder)
    identity = tuple(
        (relative, info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino) for relative, info in files
    )
    key = (str(folder), identity)
    digest = _DIGESTS.get(key)
    if digest is None:
        try:
            digest = _hash(folder, files)
        except OSError as exc:
            raise UnhashableSkill(f"{folder}: {exc}") from None
        if len(_DIGESTS) >= _DIGESTS_MAX:
            _DIGESTS.clear()
        _DIGESTS[key] = digest
    return digest


def trust(folder: Path, pinned: str | None) -> SkillTrust:
    """Whether the skill in `folder` may run, given the digest pinned when it was attached."""
    if pinned is None:
        return SkillTrust.UNPINNED
    try:
        current = skill_digest(folder)
    except UnhashableSkill:
        return SkillTrust.CHANGED
    return SkillTrust.TRUSTED if current == pinned else SkillTrust.CHANGED
