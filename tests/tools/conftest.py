"""Workspaces with small scripts for the tool runner tests."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WriteScript = Callable[[str, str], str]

# Runs only if a refused command is executed after all: the tests look for its marker.
MARKER_SCRIPT = """
import pathlib, sys
pathlib.Path(sys.argv[0]).with_name("RAN").write_text("ran")
"""


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the workspace that no run may touch."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("top secret")
    (path / "evil.py").write_text(MARKER_SCRIPT)
    return path


@pytest.fixture
def workspace(tmp_path: Path, outside: Path) -> Path:
    path = tmp_path / "ws"
    for folder in ("skills/demo/scripts", "inputs", "outputs"):
        (path / folder).mkdir(parents=True)
    (path / "inputs" / "inbox.json").write_text("[]")
    (path / "skills" / "demo" / "scripts" / "ok.py").write_text(MARKER_SCRIPT)
    return path


@pytest.fixture
def write_script(workspace: Path) -> WriteScript:
    """Writes `code` (dedented) to skills/demo/scripts/<name> and returns the command prefix."""

    def write(name: str, code: str) -> str:
        target = workspace / "skills" / "demo" / "scripts" / name
        target.write_text(textwrap.dedent(code))
        return f"python skills/demo/scripts/{name}"

    return write


@pytest.fixture(params=["var-tmp", "tmp"])
def data_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A server data dir: database, JWT secret, workspaces `a` (where runs happen) and `b`.

    Outside /tmp (only hiding it protects it) and inside (runs get a private /tmp as well).
    """
    if request.param == "tmp":
        yield _fill_data_dir(tmp_path / "data")
        return
    parent = Path(tempfile.mkdtemp(prefix="talkative-test-", dir="/var/tmp"))
    try:
        yield _fill_data_dir(parent / "data")
    finally:
        shutil.rmtree(parent)


def _fill_data_dir(data: Path) -> Path:
    for folder in ("workspaces/a/skills/demo/scripts", "workspaces/a/inputs", "workspaces/a/outputs"):
        (data / folder).mkdir(parents=True)
    (data / "workspaces" / "b" / "inputs").mkdir(parents=True)
    (data / "talkative.db").write_bytes(b"SQLite format 3\x00 agents, tokens")
    (data / "jwt-secret").write_text("jwt-secret-value")
    (data / "workspaces" / "a" / "inputs" / "inbox.json").write_text('["hello"]')
    (data / "workspaces" / "b" / "inputs" / "inbox.json").write_text('["b private"]')
    return data


@pytest.fixture
def ws_a(data_dir: Path) -> Path:
    return data_dir / "workspaces" / "a"


@pytest.fixture
def write_in(data_dir: Path) -> WriteScript:
    """Like `write_script`, for workspace `a` of `data_dir`."""

    def write(name: str, code: str) -> str:
        target = data_dir / "workspaces" / "a" / "skills" / "demo" / "scripts" / name
        target.write_text(textwrap.dedent(code))
        return f"python skills/demo/scripts/{name}"

    return write
