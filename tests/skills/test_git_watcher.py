"""The git-watcher template, run for real against repositories created with `git init`."""

from __future__ import annotations

import runpy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from talkative.skills.catalogue import get_template
from tests.skills.helpers import RunScript, read_report

SCRIPT = "skills/git-watcher/scripts/watch.py"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


def make_repo(path: Path, *, commit: bool = True) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    if commit:
        (path / "a.txt").write_text("a\n", encoding="utf-8")
        (path / "b.txt").write_text("b\n", encoding="utf-8")
        git(path, "add", ".")
        git(path, "commit", "-q", "-m", "Initial import")
    return path


@pytest.fixture
def watched(install_template: Callable[[str], Path]) -> Path:
    return install_template("git-watcher")


def test_clean_repository(watched: Path, run_script: RunScript) -> None:
    repo = make_repo(watched / "project")
    run = run_script(watched, SCRIPT, "--repo", "project")

    assert run.returncode == 0, run.stderr
    assert run.envelope == read_report(watched, "git-watcher")
    data = run.envelope["data"]
    assert data["isGitRepo"] is True
    assert data["repo"] == "project"
    assert data["branch"] == "main"
    assert data["detached"] is False
    assert data["upstream"] is None
    assert data["dirty"] is False
    assert data["changedFiles"] == []
    assert data["counts"] == {"staged": 0, "unstaged": 0, "untracked": 0, "conflicted": 0}
    assert data["lastCommit"]["sha"] == git(repo, "rev-parse", "HEAD")
    assert data["lastCommit"]["subject"] == "Initial import"


def test_dirty_repository_on_a_feature_branch(watched: Path, run_script: RunScript) -> None:
    repo = make_repo(watched / "project")
    git(repo, "checkout", "-q", "-b", "feature/report")
    (repo / "a.txt").write_text("changed\n", encoding="utf-8")  # unstaged modification
    (repo / "new.txt").write_text("new\n", encoding="utf-8")
    git(repo, "add", "new.txt")  # staged addition
    git(repo, "mv", "b.txt", "c.txt")  # staged rename
    (repo / "notes with space.md").write_text("x\n", encoding="utf-8")  # untracked

    run = run_script(watched, SCRIPT, "--repo", "project")

    data = run.envelope["data"]
    assert data["branch"] == "feature/report"
    assert data["dirty"] is True
    changes = {entry["path"]: entry for entry in data["changedFiles"]}
    assert {path: entry["change"] for path, entry in changes.items()} == {
        "a.txt": "modified",
        "new.txt": "added",
        "c.txt": "renamed",
        "notes with space.md": "untracked",
    }
    assert changes["c.txt"]["origPath"] == "b.txt"
    assert (changes["a.txt"]["index"], changes["a.txt"]["worktree"]) == (" ", "M")
    assert data["counts"] == {"staged": 2, "unstaged": 1, "untracked": 1, "conflicted": 0}
    assert run.envelope["metrics"] == {"changedFiles": 4}


def test_upstream_distance(watched: Path, run_script: RunScript) -> None:
    origin = make_repo(watched / "origin")
    git(watched, "clone", "-q", str(origin), "clone")
    clone = watched / "clone"
    (clone / "a.txt").write_text("ahead\n", encoding="utf-8")
    git(clone, "commit", "-q", "-am", "Local work")

    data = run_script(watched, SCRIPT, "--repo", "clone").envelope["data"]
    assert (data["branch"], data["upstream"], data["ahead"], data["behind"]) == ("main", "origin/main", 1, 0)
    assert data["lastCommit"]["subject"] == "Local work"


def test_new_repository_and_detached_head(watched: Path, run_script: RunScript) -> None:
    make_repo(watched / "empty", commit=False)
    data = run_script(watched, SCRIPT, "--repo", "empty").envelope["data"]
    assert (data["branch"], data["hasCommits"], data["lastCommit"]) == ("main", False, None)

    repo = make_repo(watched / "project")
    git(repo, "checkout", "-q", "--detach")
    data = run_script(watched, SCRIPT, "--repo", "project").envelope["data"]
    assert (data["branch"], data["detached"]) == (None, True)


def test_workspace_itself_via_the_manifest_command(watched: Path, run_script: RunScript) -> None:
    argv = get_template("git-watcher").manifest.argv
    run = run_script(watched, *argv[1:])
    assert run.returncode == 0
    assert run.envelope["data"] == {"isGitRepo": False, "repo": "."}

    git(watched, "init", "-q", "-b", "trunk")
    run = run_script(watched, *argv[1:])
    assert run.envelope["data"]["isGitRepo"] is True
    assert run.envelope["data"]["branch"] == "trunk"
    assert "skills/" in {entry["path"] for entry in run.envelope["data"]["changedFiles"]}


def test_non_repository_folder_is_not_an_error(watched: Path, run_script: RunScript) -> None:
    (watched / "plain").mkdir()
    run = run_script(watched, SCRIPT, "--repo", "plain")
    assert run.returncode == 0
    assert run.envelope["ok"] is True
    assert run.envelope["data"] == {"isGitRepo": False, "repo": "plain"}


def test_repository_around_the_workspace_is_not_reported(
    tmp_path: Path, install_template: Callable[[str], Path], run_script: RunScript
) -> None:
    # The workspace lives inside a checkout: git must not walk up and describe the outer repo.
    git(tmp_path, "init", "-q", "-b", "outer")
    workspace = install_template("git-watcher")
    (workspace / "plain").mkdir()
    run = run_script(workspace, SCRIPT, "--repo", "plain")
    assert run.envelope["data"] == {"isGitRepo": False, "repo": "plain"}


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_repository_outside_the_workspace_is_refused(
    tmp_path: Path, watched: Path, run_script: RunScript, how: str
) -> None:
    outside = make_repo(tmp_path / "elsewhere")
    arg = {"relative": "../elsewhere", "absolute": str(outside), "symlink": "link"}[how]
    if how == "symlink":
        (watched / "link").symlink_to(outside)
    run = run_script(watched, SCRIPT, "--repo", arg)

    assert run.returncode == 1
    assert run.envelope["ok"] is False
    assert run.envelope["error"] == f"path {arg!r} is outside the workspace"
    assert read_report(watched, "git-watcher") == run.envelope


def test_missing_folder_fails(watched: Path, run_script: RunScript) -> None:
    run = run_script(watched, SCRIPT, "--repo", "nope")
    assert (run.returncode, run.envelope["ok"]) == (1, False)
    assert run.envelope["error"] == "repo path 'nope' is not a folder"


@pytest.fixture(scope="module")
def watcher() -> dict[str, Any]:
    """The script's functions, loaded without running it (its main is behind a __name__ guard)."""
    return runpy.run_path(str(get_template("git-watcher").folder / "scripts" / "watch.py"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("## main", {"branch": "main", "upstream": None, "ahead": 0, "behind": 0}),
        (
            "## main...origin/main [ahead 1, behind 2]",
            {"branch": "main", "upstream": "origin/main", "ahead": 1, "behind": 2},
        ),
        ("## dev...origin/dev [behind 3]", {"branch": "dev", "upstream": "origin/dev", "behind": 3}),
        ("## dev...origin/dev [gone]", {"branch": "dev", "upstream": "origin/dev", "ahead": 0}),
        ("## No commits yet on main", {"branch": "main", "hasCommits": False}),
        ("## HEAD (no branch)", {"branch": None, "detached": True}),
    ],
)
def test_parse_header(watcher: dict[str, Any], header: str, expected: dict[str, Any]) -> None:
    info = watcher["parse_header"](header)
    assert {key: info[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("xy", "change"),
    [
        ("??", "untracked"),
        ("UU", "conflicted"),
        ("AA", "conflicted"),
        ("R ", "renamed"),
        ("C ", "copied"),
        ("A ", "added"),
        (" D", "deleted"),
        ("MM", "modified"),
    ],
)
def test_change_words(watcher: dict[str, Any], xy: str, change: str) -> None:
    assert watcher["change_of"](xy) == change
