"""Fixtures for skills: a fresh workspace, installed templates, a real script runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from talkative.skills.catalogue import get_template
from talkative.skills.install import install_skill
from tests.skills.helpers import RunScript, ScriptRun, run_skill_script


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty agent workspace."""
    root = tmp_path / "workspace"
    (root / "inputs").mkdir(parents=True)
    (root / "outputs").mkdir()
    return root


@pytest.fixture
def install_template(workspace: Path) -> Callable[[str], Path]:
    """Install a bundled template into the workspace and return the workspace."""

    def install(name: str) -> Path:
        install_skill(workspace=workspace, skill=get_template(name))
        return workspace

    return install


@pytest.fixture
def run_script(tmp_path: Path) -> RunScript:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)

    def run(workspace: Path, script: str, *args: str) -> ScriptRun:
        return run_skill_script(workspace, home, script, *args)

    return run
