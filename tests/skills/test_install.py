"""Installing skills into a workspace: copy, seed, heartbeat, idempotency, path safety."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from talkative.skills.catalogue import get_template
from talkative.skills.install import (
    HEARTBEAT_FILE,
    InstallError,
    add_heartbeat_command,
    install_skill,
    read_heartbeat_commands,
)
from talkative.skills.manifest import load_skill

MAIL_COMMAND = (
    "python skills/mail-triage/scripts/triage.py --inbox inputs/inbox.json --out outputs/mail-triage.json"
)


def test_install_copies_seeds_and_registers_heartbeat(workspace: Path) -> None:
    template = get_template("mail-triage")
    result = install_skill(workspace=workspace, skill=template)

    target = workspace / "skills" / "mail-triage"
    assert result.path == target
    for relative in ("SKILL.md", "scripts/triage.py", "references/README.md", "assets/inbox.json"):
        assert (target / relative).read_bytes() == (template.folder / relative).read_bytes()
    assert load_skill(target).manifest == template.manifest
    assert result.seeded == ["inputs/inbox.json"]
    assert result.kept == []
    assert (workspace / "inputs" / "inbox.json").read_bytes() == (
        template.folder / "assets" / "inbox.json"
    ).read_bytes()
    assert result.heartbeat_added is True
    assert read_heartbeat_commands(workspace) == [MAIL_COMMAND]


def test_reinstall_is_idempotent_and_keeps_user_inputs(workspace: Path) -> None:
    template = get_template("mail-triage")
    install_skill(workspace=workspace, skill=template)
    inbox = workspace / "inputs" / "inbox.json"
    inbox.write_text("[]", encoding="utf-8")  # the user replaced the sample
    (workspace / "skills" / "mail-triage" / "stale.txt").write_text("old", encoding="utf-8")

    again = install_skill(workspace=workspace, skill=template)

    assert again.seeded == []
    assert again.kept == ["inputs/inbox.json"]
    assert again.heartbeat_added is False
    assert inbox.read_text(encoding="utf-8") == "[]"
    heartbeat = (workspace / HEARTBEAT_FILE).read_text(encoding="utf-8")
    assert [line for line in heartbeat.splitlines() if line.startswith("RUN")] == [f"RUN {MAIL_COMMAND}"]
    # The skill's own files are refreshed from the template: leftovers disappear.
    assert not (workspace / "skills" / "mail-triage" / "stale.txt").exists()
    assert not [p for p in (workspace / "skills").iterdir() if p.name.startswith(".")]


def test_existing_heartbeat_lines_are_preserved(workspace: Path) -> None:
    (workspace / HEARTBEAT_FILE).write_text("# Mine\nRUN python skills/x/scripts/x.py", encoding="utf-8")
    install_skill(workspace=workspace, skill=get_template("mail-triage"))
    text = (workspace / HEARTBEAT_FILE).read_text(encoding="utf-8")
    assert text.startswith("# Mine\nRUN python skills/x/scripts/x.py\n")
    assert read_heartbeat_commands(workspace) == ["python skills/x/scripts/x.py", MAIL_COMMAND]


def test_skill_without_heartbeat_leaves_heartbeat_alone(workspace: Path) -> None:
    result = install_skill(workspace=workspace, skill=get_template("git-watcher"))
    assert result.heartbeat_added is False
    assert result.seeded == []
    assert not (workspace / HEARTBEAT_FILE).exists()
    assert (workspace / "skills" / "git-watcher" / "scripts" / "watch.py").is_file()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("# Heartbeat\n\nRUN a b\n  RUN   c  \n", ["a b", "c"]),
        ("RUN\nRUNNING x\nrun y\n- RUN z\nRUN\tq\n", ["q"]),
        ("Lines that start with the word RUN are run\n", []),
    ],
)
def test_read_heartbeat_commands(workspace: Path, text: str, expected: list[str]) -> None:
    (workspace / HEARTBEAT_FILE).write_text(text, encoding="utf-8")
    assert read_heartbeat_commands(workspace) == expected


def test_missing_heartbeat_file_has_no_commands(workspace: Path) -> None:
    assert read_heartbeat_commands(workspace) == []


def test_add_heartbeat_command_once(workspace: Path) -> None:
    assert add_heartbeat_command(workspace, "python a.py") is True
    assert add_heartbeat_command(workspace, "python a.py") is False
    assert read_heartbeat_commands(workspace) == ["python a.py"]


def test_bytecode_is_not_copied(tmp_path: Path, workspace: Path) -> None:
    source = tmp_path / "src" / "mail-triage"
    shutil.copytree(get_template("mail-triage").folder, source)
    (source / "scripts" / "__pycache__").mkdir()
    (source / "scripts" / "__pycache__" / "triage.cpython-311.pyc").write_bytes(b"\0")
    install_skill(workspace=workspace, skill=load_skill(source))
    assert not (workspace / "skills" / "mail-triage" / "scripts" / "__pycache__").exists()


def test_symlinked_inputs_pointing_outside_are_refused(tmp_path: Path, workspace: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace / "inputs").rmdir()
    (workspace / "inputs").symlink_to(outside)
    with pytest.raises(InstallError, match="outside the workspace"):
        install_skill(workspace=workspace, skill=get_template("mail-triage"))
    assert list(outside.iterdir()) == []


def test_symlinked_heartbeat_is_refused(tmp_path: Path, workspace: Path) -> None:
    target = workspace / "real.md"
    target.write_text("RUN x\n", encoding="utf-8")
    (workspace / HEARTBEAT_FILE).symlink_to(target)
    with pytest.raises(InstallError, match="not a symlink"):
        read_heartbeat_commands(workspace)


def test_skill_containing_a_symlink_is_refused(tmp_path: Path, workspace: Path) -> None:
    source = tmp_path / "src" / "mail-triage"
    shutil.copytree(get_template("mail-triage").folder, source)
    (source / "references" / "secret").symlink_to("/etc/hostname")
    with pytest.raises(InstallError, match="symlink"):
        install_skill(workspace=workspace, skill=load_skill(source))
    assert not (workspace / "skills" / "mail-triage").exists()
