"""run_tool happy paths and the result contract (docs/product.md §4.4)."""

from __future__ import annotations

import json
from pathlib import Path

from talkative.tools.schemas import ToolErrorCode
from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript

ENVELOPE = """
import json, sys
report = {"ok": True, "generatedAt": "2025-01-01T00:00:00Z", "skillName": "demo",
          "data": {"argv": sys.argv[1:]}}
print("some log line")
print(json.dumps(report))
print()
"""


async def test_envelope_is_parsed_and_the_result_serialises(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script("triage.py", ENVELOPE) + " --inbox inputs/inbox.json"

    result = await run_tool(workspace=workspace, command=command)

    assert result.ok, result.stderr
    assert result.error is None
    assert result.exit_code == 0
    assert result.command == ["python", "skills/demo/scripts/triage.py", "--inbox", "inputs/inbox.json"]
    assert result.skillReport is not None
    assert result.skillReport["data"] == {"argv": ["--inbox", "inputs/inbox.json"]}
    assert result.stdout.startswith("some log line\n")
    dumped = json.loads(json.dumps(result.model_dump()))
    assert dumped["metrics"]["exit_code"] == 0
    assert dumped["metrics"]["duration_ms"] > 0
    assert dumped["skillReport"]["skillName"] == "demo"


async def test_script_runs_in_the_workspace_with_its_own_folder_importable(
    workspace: Path, write_script: WriteScript
) -> None:
    write_script("helper.py", "VALUE = 42\n")
    command = write_script(
        "main.py",
        """
        import os, sys, helper
        print(os.getcwd(), helper.VALUE, sys.argv[0].endswith("main.py"))
        """,
    )

    result = await run_tool(workspace=workspace, command=command)

    assert result.stdout.split() == [str(workspace.resolve()), "42", "True"]


async def test_ok_false_envelope_is_a_failure(workspace: Path, write_script: WriteScript) -> None:
    command = write_script(
        "fails.py",
        """
        import json
        print(json.dumps({"ok": False, "skillName": "demo", "data": None,
                          "error": {"code": "BAD_INPUT", "message": "inbox is empty"}}))
        """,
    )

    result = await run_tool(workspace=workspace, command=command)

    assert not result.ok
    assert result.exit_code == 0
    assert result.error is not None
    assert result.error.code == ToolErrorCode.SKILL_REPORTED_FAILURE
    assert result.error.message == "inbox is empty"
    assert result.skillReport is not None and result.skillReport["ok"] is False


async def test_nonzero_exit_is_a_failure(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("exits.py", "import sys\nprint('partial')\nsys.exit(3)\n")

    result = await run_tool(workspace=workspace, command=command)

    assert not result.ok
    assert result.exit_code == 3
    assert result.metrics.exit_code == 3
    assert result.error is not None and result.error.code == ToolErrorCode.NONZERO_EXIT
    assert result.stdout == "partial\n"


async def test_uncaught_exception_reports_the_traceback(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("raises.py", "raise RuntimeError('boom')\n")

    result = await run_tool(workspace=workspace, command=command)

    assert result.exit_code == 1
    assert "RuntimeError: boom" in result.stderr


async def test_non_json_last_line_is_not_a_report(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("plain.py", "print('{\"ok\": false')\nprint('[1, 2]')\n")

    result = await run_tool(workspace=workspace, command=command)

    assert result.ok
    assert result.skillReport is None


async def test_artifacts_list_new_and_modified_outputs_only(
    workspace: Path, write_script: WriteScript
) -> None:
    outputs = workspace / "outputs"
    (outputs / "old.json").write_text("old")
    (outputs / "kept.json").write_text("kept")
    (workspace / "inputs" / "note.txt").write_text("x")
    command = write_script(
        "writes.py",
        """
        import pathlib
        pathlib.Path("outputs/nested").mkdir()
        pathlib.Path("outputs/nested/new.csv").write_text("a,b")
        pathlib.Path("outputs/old.json").write_text("new contents")
        pathlib.Path("inputs/note.txt").write_text("not an artifact")
        """,
    )

    result = await run_tool(workspace=workspace, command=command)

    assert result.ok, result.stderr
    assert result.artifacts == ["outputs/nested/new.csv", "outputs/old.json"]


async def test_output_is_decoded_leniently(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("bytes.py", "import sys\nsys.stdout.buffer.write(b'caf\\xc3\\xa9 \\xff\\n')\n")

    result = await run_tool(workspace=workspace, command=command)

    assert result.stdout == "café \ufffd\n"


async def test_script_runs_inside_the_launcher_interpreter(
    workspace: Path, write_script: WriteScript
) -> None:
    # One interpreter start per call: the script is run by the launcher's process image
    # (after a fork), not by a second `python` exec'd from it.
    command = write_script(
        "whoami.py",
        "import json\nprint(json.dumps(open('/proc/self/cmdline').read().split(chr(0))))\n",
    )

    result = await run_tool(workspace=workspace, command=command)

    argv = json.loads(result.stdout)
    assert argv[1:5] == ["-E", "-s", "-S", "-B"]
    # Forked by the warm fork server (zygote.py), which turned into the launcher.
    assert argv[5].endswith("talkative/tools/zygote.py")


async def test_scripts_import_the_report_module_and_installed_packages_without_site(
    workspace: Path, write_script: WriteScript
) -> None:
    # The launcher skips `site` (-S) for speed; it puts the package and site-packages on the path.
    command = write_script(
        "imports.py",
        "import json, sys, yaml\n"
        "from talkative.skills.report import SkillResult\n"
        "print(json.dumps({'site': 'site' in sys.modules, 'yaml': yaml.__name__, 'report': SkillResult.__name__}))\n",
    )

    result = await run_tool(workspace=workspace, command=command)

    assert result.ok, result
    assert json.loads(result.stdout) == {"site": False, "yaml": "yaml", "report": "SkillResult"}


async def test_script_runs_as_a_plain_main_module(workspace: Path, write_script: WriteScript) -> None:
    command = write_script(
        "main.py",
        """
        import json, pickle, sys

        class Point:
            x: int

        def f(value: int) -> str:
            return str(value)

        print(json.dumps({
            "name": __name__, "file": __file__, "main": sys.modules["__main__"].f is f,
            "annotations": [repr(v) for v in f.__annotations__.values()],  # evaluated: no __future__
            "pickled": type(pickle.loads(pickle.dumps(Point()))).__name__,
        }))
        """,
    )

    result = await run_tool(workspace=workspace, command=command)

    assert result.ok, result.stderr
    assert json.loads(result.stdout) == {
        "name": "__main__",
        "file": str(workspace.resolve() / "skills/demo/scripts/main.py"),
        "main": True,
        "annotations": ["<class 'int'>", "<class 'str'>"],
        "pickled": "Point",
    }
