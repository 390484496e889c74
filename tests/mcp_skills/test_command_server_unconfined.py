"""On a host whose kernel cannot confine a skill, `TALKATIVE_SANDBOX=required` refuses to run a local
(`command`) MCP server too: listing it fails with the sandbox's reason and the server never starts.

Not faked, as in tests/sandbox/test_required_refuses.py: the listing runs in a process whose own
seccomp filter already forbids new namespaces, so the sandbox's probes really fail in the kernel.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkative.tools import isolation

LISTING = """
import asyncio, ctypes, json, sys
from pathlib import Path
sys.path.insert(0, {tools!r})
import seccomp
assert ctypes.CDLL(None).prctl(38, 1, 0, 0, 0) == 0  # no_new_privs
seccomp.install(network=False)
sys.path.pop(0)
from talkative.mcp_skills import transports
from talkative.mcp_skills.client import McpFailure
from talkative.runtime import tool_limits
from talkative.settings import Settings
data = Path({data!r})
settings = Settings(TALKATIVE_DATA_DIR=data, AUTH_JWT_SECRET="x" * 48, TALKATIVE_SANDBOX="required")
access = transports.Access("mcp_1", "crm", "command", None, "python skills/crm/server.py", {{}}, "a")
async def main():
    try:
        tools = await transports.list_tools(
            settings, access, limits=tool_limits(settings), workspace=data / "workspaces" / "a"
        )
        print(json.dumps({{"tools": [t.name for t in tools]}}))
    except McpFailure as exc:
        print(json.dumps({{"failure": str(exc)}}))
asyncio.run(main())
"""

# A server that leaves a mark where it could only write unconfined, then serves nothing.
SERVER = "open({mark!r}, 'w').write('started')\n"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    parent = Path(tempfile.mkdtemp(prefix="talkative-mcp-", dir="/var/tmp"))
    data = parent / "data"
    for folder in ("workspaces/a/skills/crm", "workspaces/a/inputs", "workspaces/a/outputs"):
        (data / folder).mkdir(parents=True)
    try:
        yield data
    finally:
        shutil.rmtree(parent)


def test_required_refuses_to_list_a_command_server_where_namespaces_are_forbidden(data_dir: Path) -> None:
    mark = data_dir / "started"
    (data_dir / "workspaces/a/skills/crm/server.py").write_text(SERVER.format(mark=str(mark)))
    code = LISTING.format(tools=str(isolation.LAUNCHER.parent), data=str(data_dir))

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert "SANDBOX_UNAVAILABLE" in answer.get("failure", ""), answer
    assert "TALKATIVE_SANDBOX=best-effort" in answer["failure"], answer
    assert not mark.exists()
