"""Workspaces with small scripts for the tool runner tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
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
