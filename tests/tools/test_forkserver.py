"""The warm fork server (zygote.py): what a script sees is what a fresh interpreter would give it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from talkative.tools import forkserver, isolation
from talkative.tools.schemas import ToolErrorCode, ToolLimits
from talkative.tools.service import run_tool
from tests.tools.conftest import WriteScript
from tests.tools.helpers import wait_for_file
from tests.waiting import within

EXITS = """
import atexit, sys
atexit.register(lambda: print("atexit ran", flush=False))
sys.stdout.write("buffered, never flushed by the script")
sys.exit(int(sys.argv[1]))
"""


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "exec"])
@pytest.mark.parametrize("code", [0, 3])
async def test_exit_code_atexit_hooks_and_buffered_output_survive(
    workspace: Path, write_script: WriteScript, fork_server: bool, code: int
) -> None:
    command = write_script("exits.py", EXITS) + f" {code}"

    result = await run_tool(workspace=workspace, command=command, fork_server=fork_server)

    assert result.metrics.exit_code == code
    assert result.stdout == "buffered, never flushed by the scriptatexit ran\n"


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "exec"])
async def test_an_uncaught_exception_is_reported_like_the_interpreter_does(
    workspace: Path, write_script: WriteScript, fork_server: bool
) -> None:
    command = write_script("boom.py", "raise RuntimeError('boom')\n")

    result = await run_tool(workspace=workspace, command=command, fork_server=fork_server)

    assert result.metrics.exit_code == 1
    assert "RuntimeError: boom" in result.stderr and "Traceback" in result.stderr


async def test_scripts_get_their_own_environment_and_directory(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script(
        "env.py", "import json, os\nprint(json.dumps({'cwd': os.getcwd(), 'env': dict(os.environ)}))\n"
    )
    os.environ["TALKATIVE_TEST_SERVER_ONLY"] = "secret"  # the fork server must not pass it on
    try:
        result = await run_tool(workspace=workspace, command=command)
    finally:
        del os.environ["TALKATIVE_TEST_SERVER_ONLY"]

    seen = json.loads(result.stdout)
    assert seen["cwd"] == str(workspace.resolve())
    assert "TALKATIVE_TEST_SERVER_ONLY" not in seen["env"]
    assert seen["env"]["TALKATIVE_WORKSPACE"] == str(workspace.resolve())


async def test_a_dead_fork_server_fails_its_runs_and_is_replaced(
    workspace: Path, write_script: WriteScript
) -> None:
    command = write_script("slow.py", "import time\nopen('outputs/started', 'w').close()\ntime.sleep(30)\n")
    running = asyncio.create_task(
        run_tool(workspace=workspace, command=command, limits=ToolLimits(timeout_s=20))
    )
    await wait_for_file(workspace / "outputs" / "started")
    server = forkserver.for_loop(isolation.IMPORT_PATH)
    assert server._process is not None
    os.kill(server._process.pid, signal.SIGKILL)

    result = await within(running)  # its launcher died with the fork server
    assert not result.ok and result.metrics.exit_code is not None and result.metrics.exit_code < 0
    assert result.error is not None and result.error.code != ToolErrorCode.TIMEOUT

    ok = await run_tool(workspace=workspace, command=write_script("hi.py", "print('hi')\n"))
    assert ok.ok and ok.stdout == "hi\n"  # a new fork server took over


async def test_an_exit_read_in_the_same_pass_as_its_fork_reply_is_not_lost() -> None:
    # A short run can exit before `spawn` resumes: both messages are read in one pass.
    server = forkserver.ForkServer(asyncio.get_running_loop(), [])
    reply: asyncio.Future[tuple[int, asyncio.Future[int]]] = asyncio.get_running_loop().create_future()
    server._replies[7] = reply
    server._dispatch({"id": 7, "pid": 4242})
    server._dispatch({"pid": 4242, "status": 3 << 8})
    pid, exit_status = await within(reply)
    assert pid == 4242 and os.waitstatus_to_exitcode(await within(exit_status)) == 3


async def test_many_short_runs_in_a_row_all_finish(workspace: Path, write_script: WriteScript) -> None:
    command = write_script("quick.py", "pass\n")
    for _ in range(40):
        result = await within(run_tool(workspace=workspace, command=command))
        assert result.metrics.exit_code == 0
