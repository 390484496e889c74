"""Of its workspace a sandboxed run may write `inputs/` and `outputs/` only: everything else, its
skills above all, is a read-only mount, whoever owns the files. (File ownership alone would not
stop a skill rewriting itself where the server runs as the sandbox's own user.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript
from tests.tools.helpers import namespaces_supported

pytestmark = pytest.mark.skipif(not namespaces_supported(), reason="no Linux namespaces here")

WRITES = """
import errno, json
tried = {}
for path in ("inputs/new.txt", "outputs/new.txt", "new.txt", "skills/new.txt", "skills/demo/SKILL.md",
             "skills/demo/scripts/writes.py"):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        tried[path] = "written"
    except OSError as exc:
        tried[path] = errno.errorcode[exc.errno]
print(json.dumps(tried))
"""


async def test_only_inputs_and_outputs_are_writable(
    data_dir: Path, ws_a: Path, write_in: WriteScript
) -> None:
    result = await run_tool(workspace=ws_a, command=write_in("writes.py", WRITES), hidden_paths=[data_dir])

    assert result.ok, result.stderr
    assert json.loads(result.stdout) == {
        "inputs/new.txt": "written",
        "outputs/new.txt": "written",
        "new.txt": "EROFS",
        "skills/new.txt": "EROFS",
        "skills/demo/SKILL.md": "EROFS",
        "skills/demo/scripts/writes.py": "EROFS",
    }
    assert not (ws_a / "skills" / "new.txt").exists() and not (ws_a / "new.txt").exists()
