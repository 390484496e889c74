"""A skill's digest sees every change to its files, and only those."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from talkative.skills import pins
from talkative.skills.pins import SkillTrust


@pytest.fixture
def skill(tmp_path: Path) -> Path:
    folder = tmp_path / "skills" / "demo"
    (folder / "scripts").mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: demo\nrequires_approval: true\n---\n")
    (folder / "scripts" / "run.py").write_text("print('hi')\n")
    return folder


def test_the_same_files_give_the_same_digest_anywhere(skill: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere" / "demo"
    (copy / "scripts").mkdir(parents=True)
    for name in ("SKILL.md", "scripts/run.py"):
        (copy / name).write_bytes((skill / name).read_bytes())

    assert pins.skill_digest(skill) == pins.skill_digest(copy)
    assert len(pins.skill_digest(skill)) == 64


@pytest.mark.parametrize(
    "change",
    [
        lambda f: (f / "SKILL.md").write_text("---\nname: demo\nrequires_approval: false\n---\n"),
        lambda f: (f / "scripts" / "run.py").write_text("print('ho')\n"),  # same size
        lambda f: (f / "scripts" / "helper.py").write_text(""),
        lambda f: (f / "scripts" / "run.py").rename(f / "scripts" / "other.py"),
        lambda f: (f / "scripts" / "run.py").unlink(),
        lambda f: (f / "data").symlink_to("/etc"),
    ],
    ids=["manifest", "script", "new-file", "renamed", "removed", "symlink"],
)
def test_any_change_to_the_files_changes_the_digest(skill: Path, change: object) -> None:
    pinned = pins.skill_digest(skill)
    assert callable(change)
    change(skill)

    assert pins.skill_digest(skill) != pinned
    assert pins.trust(skill, pinned) is SkillTrust.CHANGED


def test_a_rewrite_that_restores_the_timestamp_is_still_seen(skill: Path) -> None:
    pinned = pins.skill_digest(skill)
    script = skill / "scripts" / "run.py"
    before = script.stat()
    script.write_text("print('ho')\n")
    os.utime(script, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime back, same size and inode

    assert pins.trust(skill, pinned) is SkillTrust.CHANGED


def test_bytecode_caches_are_not_part_of_the_skill(skill: Path) -> None:
    pinned = pins.skill_digest(skill)
    (skill / "scripts" / "__pycache__").mkdir()
    (skill / "scripts" / "__pycache__" / "run.cpython-311.pyc").write_bytes(b"cache")

    assert pins.trust(skill, pinned) is SkillTrust.TRUSTED


def test_no_pin_is_unpinned_and_a_missing_folder_is_changed(skill: Path) -> None:
    assert pins.trust(skill, None) is SkillTrust.UNPINNED
    assert pins.trust(skill.parent / "gone", "0" * 64) is SkillTrust.CHANGED


def test_a_folder_with_too_many_files_is_refused(skill: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pins, "MAX_FILES", 3)
    for index in range(3):
        (skill / f"extra-{index}.txt").write_text("x")

    with pytest.raises(pins.UnhashableSkill):
        pins.skill_digest(skill)
