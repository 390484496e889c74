"""Handing `inputs/` and `outputs/` to the sandbox uid never follows a symlink out of them."""

from __future__ import annotations

import os
from pathlib import Path

from talkative.tools.preparation import prepare_workspace
from talkative.tools.schemas import ToolErrorCode
from talkative.tools.service import run_tool


async def test_a_symlinked_outputs_dir_is_neither_chowned_nor_bound(data_dir: Path) -> None:
    workspace = data_dir / "workspaces" / "a"
    target = data_dir.parent / "host-dir"
    target.mkdir()
    (target / "host-file").write_text("host")
    (workspace / "outputs").rmdir()
    (workspace / "outputs").symlink_to(target)
    (workspace / "skills" / "demo" / "scripts" / "w.py").write_text("open('outputs/x', 'w').write('x')\n")
    script = workspace / "skills" / "demo" / "scripts" / "w.py"

    prepare_workspace(workspace, script, uid=65534, gid=65534)
    result = await run_tool(
        workspace=workspace, command="python skills/demo/scripts/w.py", hidden_paths=[data_dir]
    )

    assert os.stat(target).st_uid == 0 and os.stat(target / "host-file").st_uid == 0
    assert result.error is not None and result.error.code == ToolErrorCode.SPAWN_FAILED
    assert sorted(p.name for p in target.iterdir()) == ["host-file"]
