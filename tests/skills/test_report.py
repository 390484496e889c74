"""The report envelope helper shared by every skill script."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from talkative.skills.report import (
    SkillArgumentParser,
    SkillError,
    SkillResult,
    emit_report,
    run_skill,
)


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Scripts run with the workspace as the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def last_line(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = capsys.readouterr().out
    assert out.endswith("\n")
    envelope: dict[str, Any] = json.loads(out.splitlines()[-1])
    return envelope


def test_emit_writes_file_and_prints_one_line(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    print("progress noise")
    envelope = emit_report("demo", data={"n": 1, "name": "Zoë"}, metrics={"n": 1}, out="outputs/demo.json")

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "progress noise"
    assert json.loads(out[-1]) == envelope
    assert json.loads((cwd / "outputs" / "demo.json").read_text(encoding="utf-8")) == envelope
    assert envelope["ok"] is True
    assert envelope["skillName"] == "demo"
    assert envelope["data"] == {"n": 1, "name": "Zoë"}
    assert envelope["metrics"] == {"n": 1}
    assert "error" not in envelope
    generated = datetime.fromisoformat(envelope["generatedAt"])
    assert envelope["generatedAt"].endswith("Z")
    assert abs(datetime.now(UTC) - generated) < timedelta(minutes=1)
    assert [p.name for p in (cwd / "outputs").iterdir()] == ["demo.json"]  # no temp file left


def test_error_makes_ok_false_and_metrics_are_optional(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    envelope = emit_report("demo", data=None, error="boom")
    assert last_line(capsys) == envelope
    assert envelope["ok"] is False
    assert envelope["error"] == "boom"
    assert "metrics" not in envelope
    assert not (cwd / "outputs").exists()  # nothing written without `out`


def test_report_outside_workspace_is_not_written(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    envelope = emit_report("demo", data={"a": 1}, out="../escape.json")
    assert envelope["ok"] is False
    assert "outside the workspace" in envelope["error"]
    assert not (cwd.parent / "escape.json").exists()
    assert last_line(capsys)["ok"] is False


@pytest.mark.parametrize("data", [{"x": float("nan")}, {"x": object()}])
def test_unserialisable_data_becomes_a_failure(
    cwd: Path, capsys: pytest.CaptureFixture[str], data: dict[str, Any]
) -> None:
    envelope = emit_report("demo", data=data, out="outputs/demo.json")
    assert envelope["ok"] is False
    assert envelope["data"] is None
    assert "not JSON-serialisable" in envelope["error"]
    assert json.loads((cwd / "outputs" / "demo.json").read_text(encoding="utf-8"))["ok"] is False
    assert last_line(capsys)["ok"] is False


def ok_main(argv: list[str]) -> SkillResult:
    parser = SkillArgumentParser()
    parser.add_argument("--n", type=int, required=True)
    return SkillResult({"double": parser.parse_args(argv).n * 2}, metrics={"n": 1})


def crashing_main(argv: list[str]) -> SkillResult:
    raise RuntimeError("disk on fire")


def failing_main(argv: list[str]) -> SkillResult:
    raise SkillError("inbox file not found: inputs/inbox.json")


@pytest.mark.parametrize(
    ("main", "argv", "code", "ok", "error", "out"),
    [
        (ok_main, ["--n", "21"], 0, True, None, "outputs/demo.json"),
        (ok_main, ["--n", "2", "--out", "outputs/x.json"], 0, True, None, "outputs/x.json"),
        (ok_main, ["--out=reports/y.json", "--n", "2"], 0, True, None, "reports/y.json"),
        (ok_main, [], 2, False, "invalid arguments: the following arguments are required: --n", None),
        (crashing_main, [], 1, False, "RuntimeError: disk on fire", None),
        (failing_main, [], 1, False, "inbox file not found: inputs/inbox.json", None),
    ],
)
def test_run_skill_always_emits_one_envelope(
    cwd: Path,
    capsys: pytest.CaptureFixture[str],
    main: Any,
    argv: list[str],
    code: int,
    ok: bool,
    error: str | None,
    out: str | None,
) -> None:
    assert run_skill("demo", main, argv) == code
    printed = last_line(capsys)
    written = json.loads((cwd / (out or "outputs/demo.json")).read_text(encoding="utf-8"))
    assert printed == written
    assert printed["ok"] is ok
    assert printed.get("error") == error
    if ok:
        assert printed["data"] == {"double": int(argv[argv.index("--n") + 1]) * 2}


def test_help_exits_cleanly_without_a_report(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_skill("demo", ok_main, ["--help"]) == 0
    assert "usage:" in capsys.readouterr().out
    assert not (cwd / "outputs").exists()


def test_report_module_is_import_light() -> None:
    code = (
        "import sys, talkative.skills.report;"
        "print(sorted(m for m in ('pydantic', 'yaml', 'fastapi', 'sqlalchemy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-E", "-s", "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
