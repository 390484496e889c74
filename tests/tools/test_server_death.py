"""No run outlives the server: a killed server takes its runs down (the launcher's death signal)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from talkative.tools import isolation
from talkative.tools.schemas import ToolLimits
from tests.tools.conftest import WriteScript
from tests.tools.helpers import SPIN, alive, host_pids_once_ready, namespaces_supported
from tests.waiting import eventually

SERVER = """
import asyncio, sys
from pathlib import Path
from talkative.tools.service import run_tool
hidden = [Path(sys.argv[3])] if len(sys.argv) > 3 else []
asyncio.run(run_tool(workspace=Path(sys.argv[1]), command=sys.argv[2], hidden_paths=hidden))
"""


@pytest.mark.parametrize("data_dir", ["var-tmp"], indirect=True)  # where it is does not matter
@pytest.mark.parametrize("isolated", [False, True], ids=["plain", "isolated"])
async def test_runs_die_with_the_server(
    ws_a: Path, data_dir: Path, write_in: WriteScript, isolated: bool
) -> None:
    if isolated and not namespaces_supported():
        pytest.skip("no Linux namespaces here")
    command = write_in(
        "outlive.py",
        SPIN.replace("while True:\n    time.sleep(0.01)", "time.sleep(1)\nopen('outputs/outlived', 'w')"),
    )
    extra = [str(data_dir)] if isolated else []
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ws_a), command, *extra])
    try:
        pids = [pid for pid in await host_pids_once_ready(ws_a, root=server.pid) if pid != server.pid]
    finally:
        server.kill()  # no chance to stop anything itself
        server.wait()

    # The launcher itself may stay a zombie until this machine's init reaps it: not running.
    assert len(pids) == 4
    await eventually(
        lambda: [pid for pid in alive(pids) if _state(pid) not in ("Z", "")] == [],
        what=lambda: f"runs outlived the server: {[(pid, _state(pid)) for pid in alive(pids)]}",
    )
    assert not (ws_a / "outputs" / "outlived").exists()  # and none of them can write it any more


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rfind(")") + 2]


def test_launcher_does_not_start_for_a_server_that_is_gone(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("open('ran', 'w')\n")
    config = isolation.launcher_config(ToolLimits(), None) | {"server_pid": 2**22 + 1}  # not our parent

    done = subprocess.run(
        isolation.launcher_command(config, script),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 125 and "the server went away" in done.stderr
    assert not (tmp_path / "ran").exists()
