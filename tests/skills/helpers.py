"""Helpers shared by the skills tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class ScriptRun:
    """A finished skill script: exit code, the envelope from its last stdout line, the streams."""

    returncode: int
    envelope: dict[str, Any]
    stdout: str
    stderr: str


class RunScript(Protocol):
    def __call__(self, workspace: Path, script: str, *args: str) -> ScriptRun: ...


def run_skill_script(workspace: Path, home: Path, script: str, *args: str) -> ScriptRun:
    """Run `script` the way the tool runner does: `python -E -s`, cwd = workspace, bare environment."""
    # No PYTHON* variables, and a HOME of our own so the developer's git config cannot leak in.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-E", "-s", script, *args],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{done.stderr}"
    return ScriptRun(done.returncode, json.loads(lines[-1]), done.stdout, done.stderr)


def read_report(workspace: Path, skill_name: str) -> dict[str, Any]:
    """The envelope a skill wrote to outputs/<skill>.json."""
    data: dict[str, Any] = json.loads((workspace / "outputs" / f"{skill_name}.json").read_text("utf-8"))
    return data


def skill_md(**front: str) -> str:
    """A SKILL.md text from raw front-matter lines (values are YAML source)."""
    lines = "".join(f"{key}: {value}\n" for key, value in front.items())
    return f"---\n{lines}---\n\n# Instructions\n"
