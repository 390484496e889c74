"""Installing a skill into an agent workspace (pure filesystem: no database, no events)."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from talkative.errors import TalkativeError
from talkative.skills.manifest import Skill

HEARTBEAT_FILE = "HEARTBEAT.md"
HEARTBEAT_HEADER = (
    "# Heartbeat\n\n"
    "Lines that start with the word RUN are executed by the tool runner on every heartbeat.\n\n"
)
# Bytecode caches are machine-local noise; everything else in a skill folder is copied.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


class InstallError(TalkativeError):
    """The workspace layout makes the installation unsafe (e.g. a path escapes via a symlink)."""

    status, code = 422, "UNSAFE_WORKSPACE"


@dataclass(frozen=True)
class InstallResult:
    """What an installation did; `seeded` lists workspace paths written, `kept` those left alone."""

    name: str
    path: Path
    seeded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    heartbeat_added: bool = False


def _inside(workspace: Path, relative: str) -> Path:
    """`workspace/relative`, refusing anything that resolves outside the workspace."""
    root = workspace.resolve()
    target = root / relative
    if not target.resolve().is_relative_to(root):
        raise InstallError(f"{relative} resolves outside the workspace {root}")
    return target


def _refuse_symlinks(folder: Path) -> None:
    # A symlink in a skill would either copy a file from outside the skill or point outside
    # the workspace once installed; neither is acceptable.
    for current, dirs, files in os.walk(folder):
        for entry in (*dirs, *files):
            if (Path(current) / entry).is_symlink():
                raise InstallError(f"skill contains a symlink: {Path(current) / entry}")


def _copy_skill(skill: Skill, target: Path) -> None:
    """Replace `target` with a fresh copy of the skill, swapping folders so it is never half-written."""
    _refuse_symlinks(skill.folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{skill.name}.new-", dir=target.parent))
    try:
        shutil.copytree(skill.folder, staging, ignore=_IGNORED, dirs_exist_ok=True)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{skill.name}.old-", dir=target.parent))
            target.rename(old / "skill")
            staging.rename(target)
            shutil.rmtree(old)
            return
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _seed(workspace: Path, skill: Skill) -> tuple[list[str], list[str]]:
    seeded: list[str] = []
    kept: list[str] = []
    for asset, destination in skill.manifest.seed.items():
        target = _inside(workspace, destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Exclusive create: an existing file (or symlink) is user data and is never replaced.
            with open(target, "xb") as handle:
                handle.write((skill.folder / asset).read_bytes())
        except FileExistsError:
            kept.append(destination)
        else:
            seeded.append(destination)
    return seeded, kept


def _heartbeat_file(workspace: Path) -> Path:
    path = _inside(workspace, HEARTBEAT_FILE)
    if path.is_symlink():
        raise InstallError(f"{HEARTBEAT_FILE} must be a regular file, not a symlink")
    return path


def read_heartbeat_commands(workspace: Path) -> list[str]:
    """The commands of the `RUN <command>` lines of the workspace's HEARTBEAT.md, in order."""
    path = _heartbeat_file(workspace)
    if not path.is_file():
        return []
    commands: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.strip().split(maxsplit=1)
        if len(words) == 2 and words[0] == "RUN":
            commands.append(words[1].strip())
    return commands


def add_heartbeat_command(workspace: Path, command: str) -> bool:
    """Append `RUN <command>` to HEARTBEAT.md unless it is already there; True if appended."""
    path = _heartbeat_file(workspace)
    if command in read_heartbeat_commands(workspace):
        return False
    text = path.read_text(encoding="utf-8") if path.is_file() else HEARTBEAT_HEADER
    if text and not text.endswith("\n"):
        text += "\n"
    # Write-then-rename so a crash never leaves the heartbeat file truncated.
    fd, temp = tempfile.mkstemp(prefix=".HEARTBEAT.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"{text}RUN {command}\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True


def install_skill(*, workspace: Path, skill: Skill) -> InstallResult:
    """Copy a skill to `<workspace>/skills/<name>/`, seed its inputs, register its heartbeat.

    Idempotent: the skill's own files are refreshed, seeded inputs that already exist are kept
    (they may hold the user's data) and the heartbeat line is added only once.
    """
    workspace.mkdir(parents=True, exist_ok=True)
    target = _inside(workspace, f"skills/{skill.name}")
    _copy_skill(skill, target)
    seeded, kept = _seed(workspace, skill)
    added = skill.manifest.heartbeat and add_heartbeat_command(workspace, skill.manifest.command)
    return InstallResult(name=skill.name, path=target, seeded=seeded, kept=kept, heartbeat_added=added)
