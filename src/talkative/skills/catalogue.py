"""The skill catalogue: bundled templates and any folder of skill folders (e.g. a workspace's)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from talkative.skills.manifest import NAME_PATTERN, SKILL_FILE, InvalidSkill, Skill, load_skill

logger = logging.getLogger(__name__)


class SkillNotFound(LookupError):
    """No valid skill of that name in the catalogue."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown skill {name!r}")


@dataclass(frozen=True)
class SkillScan:
    """The outcome of scanning a folder: the valid skills and why the others were refused."""

    skills: list[Skill] = field(default_factory=list)
    invalid: list[InvalidSkill] = field(default_factory=list)


def templates_dir() -> Path:
    """The folder of bundled templates (package data next to this module)."""
    # A plain path, not importlib.resources.files(): the package is always installed unzipped
    # (editable or wheel) and callers need a real folder to copy from.
    return Path(__file__).resolve().parent / "templates"


def scan_skills(root: Path) -> SkillScan:
    """Load every sub-folder of `root` that has a SKILL.md; invalid ones are collected, not raised."""
    scan = SkillScan()
    if not root.is_dir():
        return scan
    for folder in sorted(root.iterdir()):
        # Hidden and underscore folders are staging areas or caches, never skills.
        if folder.name.startswith((".", "_")) or not (folder / SKILL_FILE).is_file():
            continue
        try:
            scan.skills.append(_load_cached(folder))
        except InvalidSkill as exc:
            scan.invalid.append(exc)
    return scan


# Parsed skills by their SKILL.md identity: every message lists its agent's skills, and parsing the
# YAML each time costs milliseconds; an edited SKILL.md has a new mtime or size and is parsed again.
_PARSED: dict[tuple[str, int, int, int], Skill] = {}
_PARSED_MAX = 4096


def _load_cached(folder: Path) -> Skill:
    stat = (folder / SKILL_FILE).stat()
    key = (str(folder), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    skill = _PARSED.get(key)
    if skill is None:
        skill = load_skill(folder)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = skill
    return skill


def list_skills(root: Path) -> list[Skill]:
    """The valid skills under `root`, sorted by name; invalid folders are logged and left out."""
    scan = scan_skills(root)
    for problem in scan.invalid:
        logger.warning("skipping invalid skill: %s", problem)
    return scan.skills


def get_skill(root: Path, name: str) -> Skill:
    """One skill under `root` by name; raises SkillNotFound (or InvalidSkill if it is broken)."""
    # The name becomes a path segment, so it must be a slug before it touches the filesystem.
    if not NAME_PATTERN.fullmatch(name) or not (root / name / SKILL_FILE).is_file():
        raise SkillNotFound(name)
    return load_skill(root / name)


def list_templates() -> list[Skill]:
    """The bundled templates."""
    return list_skills(templates_dir())


def get_template(name: str) -> Skill:
    """One bundled template by name."""
    return get_skill(templates_dir(), name)
