"""The shipped deployment files are valid for the real tools that read them: systemd's own
verifier accepts every unit, and every command a unit starts is one our CLI accepts."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
TALKATIVE = Path(sys.executable).with_name("talkative")


def _runnable_here(unit: Path, target: Path) -> Path:
    """The unit as this machine can verify it: our talkative, root, the example environment;
    a template gets an instance name."""
    text = unit.read_text()
    text = text.replace("/opt/talkative/.venv/bin/talkative", str(TALKATIVE))
    text = re.sub(r"^(User|Group)=talkative$", r"\1=root", text, flags=re.MULTILINE)
    text = text.replace("/etc/talkative/talkative.env", str(DEPLOY / "systemd" / "talkative.env.example"))
    name = unit.name.replace("@.service", "@1.service")
    path = target / name
    path.write_text(text)
    return path


def test_there_are_units_for_the_api_the_worker_and_migrations() -> None:
    assert {u.name for u in UNITS} == {
        "talkative-api@.service",
        "talkative-worker@.service",
        "talkative-migrate.service",
    }


def test_systemd_verifies_the_units(tmp_path: Path) -> None:
    checked = [str(_runnable_here(unit, tmp_path)) for unit in UNITS]  # together: they require each other
    result = subprocess.run(
        ["systemd-analyze", "verify", *checked], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_the_command_a_unit_starts_is_one_the_cli_accepts(unit: Path) -> None:
    [exec_start] = re.findall(r"^ExecStart=(.+)$", unit.read_text(), flags=re.MULTILINE)
    argv = shlex.split(exec_start)
    assert argv[0] == "/opt/talkative/.venv/bin/talkative"
    result = subprocess.run([str(TALKATIVE), *argv[1:], "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
