"""Command validation: what may run, decided without running anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from talkative.tools.policy import CommandRefused, prepare_command
from talkative.tools.schemas import ToolErrorCode

OK = "python skills/demo/scripts/ok.py"


@pytest.mark.parametrize(
    "args",
    [
        "--inbox inputs/inbox.json --out outputs/mail-triage.json",
        "--out=outputs/new/file.json",
        "~/inputs/inbox.json",
        "./inputs",
        ".",
        "-n5 -1.5 --verbose -",
        "key=value a.json,b.json",
        "https://example.com/repo.git",
        "'with space' plain-word",
    ],
)
def test_accepts_arguments_that_stay_inside(workspace: Path, args: str) -> None:
    prepared = prepare_command(workspace, f"{OK} {args}")

    assert prepared.script == (workspace / "skills/demo/scripts/ok.py").resolve()
    assert prepared.workspace == workspace.resolve()


def test_keeps_arguments_verbatim_and_accepts_argv_lists(workspace: Path) -> None:
    argv = ["python3", "skills/demo/scripts/ok.py", "--title", "two words", "inputs/inbox.json"]

    assert prepare_command(workspace, argv).args == argv[2:]
    assert prepare_command(workspace, f"{OK} --title 'two words'").args == ["--title", "two words"]


def test_symlink_that_stays_inside_is_accepted(workspace: Path) -> None:
    (workspace / "inbox-link.json").symlink_to(workspace / "inputs" / "inbox.json")

    prepared = prepare_command(workspace, f"{OK} inbox-link.json")

    assert prepared.args == ["inbox-link.json"]  # passed on as written, not resolved
    assert prepared.script == (workspace / "skills/demo/scripts/ok.py").resolve()
    assert prepared.workspace == workspace.resolve()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ("-o/etc/passwd", ToolErrorCode.PATH_OUTSIDE_WORKSPACE),
        ("-vo../x", ToolErrorCode.PATH_OUTSIDE_WORKSPACE),
        ("-o=/etc/passwd", ToolErrorCode.PATH_OUTSIDE_WORKSPACE),
        ("--out=~/../../x", ToolErrorCode.PATH_OUTSIDE_WORKSPACE),
        ("inputs/../../x", ToolErrorCode.PATH_OUTSIDE_WORKSPACE),
        ("a.json,/etc/passwd", ToolErrorCode.PATH_OUTSIDE_WORKSPACE),
        ("~root", ToolErrorCode.PATH_OUTSIDE_WORKSPACE),
        ("x" * 5000, ToolErrorCode.COMMAND_REFUSED),
        ("$(id)", ToolErrorCode.COMMAND_REFUSED),
    ],
)
def test_refuses_tricky_arguments(workspace: Path, args: str, code: ToolErrorCode) -> None:
    with pytest.raises(CommandRefused) as refused:
        prepare_command(workspace, f"{OK} {args}")

    assert refused.value.code is code


def test_missing_workspace_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandRefused) as refused:
        prepare_command(tmp_path / "nope", OK)

    assert refused.value.code is ToolErrorCode.SPAWN_FAILED
