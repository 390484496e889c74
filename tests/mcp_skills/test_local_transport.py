"""Local MCP servers run inside the skill sandbox: the MCP stdio exchange, its errors and bounds.

Every test runs the real thing: the bridge in the real sandbox (required mode: every layer), the
server as its child. `SDK_SERVER` is written with the official MCP SDK (the sandbox sees the
server's site-packages, as a skill does); `RAW_SERVER` speaks JSON-RPC by hand for what an SDK
server would never do (crash, stay silent, answer too much, refuse).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from talkative.mcp_skills import local
from talkative.mcp_skills.local import LocalErrorCode, LocalMcpError
from talkative.runtime import tool_limits
from talkative.settings import Settings
from talkative.tools.schemas import StepIdentity, ToolErrorCode, ToolLimits
from tests.waiting import eventually, within

SDK = "python skills/crm/server.py"
RAW = "python skills/raw/server.py"
SECRET = "jwt-secret-value"

SDK_SERVER = '''
import os
from typing import TypedDict

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

app = MCPServer("crm")


class Sum(TypedDict):
    total: int


@app.tool()
def add(a: int, b: int) -> Sum:
    """Adds two numbers."""
    return {"total": a + b}


@app.tool()
def refuse(reason: str) -> str:
    """Always fails, with the reason it is given."""
    raise ToolError(f"refused: {reason}")


@app.tool()
def read(path: str) -> str:
    """The text of a file."""
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {type(exc).__name__}") from exc


@app.tool()
def overwrite(path: str) -> str:
    """Writes over a file."""
    try:
        with open(path, "w") as handle:
            handle.write("tampered")
    except OSError as exc:
        raise ToolError(f"cannot write {path}: {type(exc).__name__}") from exc
    return "written"


@app.tool()
def big(size: int) -> str:
    """`size` characters of text."""
    return "x" * size


@app.tool()
def big_structured(size: int) -> dict[str, str]:
    """A structured answer with `size` characters in it."""
    return {"blob": "y" * size}


@app.tool()
def step() -> str:
    """The run step it serves, as a skill would see it."""
    return f"{os.environ.get('TALKATIVE_IDEMPOTENCY_KEY')}#{os.environ.get('TALKATIVE_ATTEMPT')}"


app.run("stdio")
'''

# One mode per test, from argv: what an SDK server would never do.
RAW_SERVER = """
import json, sys, time

MODE = sys.argv[1]


def send(message):
    sys.stdout.write(json.dumps(message) + "\\n")
    sys.stdout.flush()


def answer(ident, result):
    send({"jsonrpc": "2.0", "id": ident, "result": result})


if MODE == "crash":
    sys.stderr.write("server: missing configuration\\n")
    sys.exit(3)
for line in sys.stdin:
    message = json.loads(line)
    method, ident = message.get("method"), message.get("id")
    if MODE in ("silent", "cancel"):
        if MODE == "cancel":
            open("outputs/started", "w").write("yes")
        time.sleep(3600)
    if method == "initialize":
        if MODE == "chatty":
            print("starting up, not JSON")  # a server that logs to stdout
            send({"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "hi"}})
            send({"jsonrpc": "2.0", "id": "ping-1", "method": "ping"})
            reply = json.loads(sys.stdin.readline())
            assert reply == {"jsonrpc": "2.0", "id": "ping-1", "result": {}}, reply
            send({"jsonrpc": "2.0", "id": "roots-1", "method": "roots/list"})
            reply = json.loads(sys.stdin.readline())
            assert reply["error"]["code"] == -32601, reply
        answer(ident, {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                       "serverInfo": {"name": "raw", "version": "9"}})
    elif method == "tools/list":
        if MODE == "many":
            page = int(message.get("params", {}).get("cursor") or 0)
            tools = [{"name": f"tool_{page}_{i}", "inputSchema": {"type": "object"}} for i in range(100)]
            answer(ident, {"tools": tools, "nextCursor": str(page + 1)})
        elif MODE == "deep":
            sys.stdout.write('{"jsonrpc": "2.0", "id": %d, "result": %s}\\n' % (ident, "[" * 100000 + "]" * 100000))
            sys.stdout.flush()
        elif MODE == "huge":
            answer(ident, {"tools": [{"name": "t", "description": "d" * (5 * 1024 * 1024),
                                      "inputSchema": {"type": "object"}}]})
        else:
            answer(ident, {"tools": [
                {"name": "echo", "description": "Echoes.", "inputSchema": {"type": "object"}},
                {"name": "no_schema"},
                {"description": "no name", "inputSchema": {"type": "object"}},
            ]})
    elif method == "tools/call":
        if MODE == "refuse":
            send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32602, "message": "Unknown tool: nope"}})
        elif MODE == "die":
            sys.exit(7)
        elif MODE in ("costly", "free"):  # the cost convention: _meta.cost_usd (docs/mcp.md)
            answer(ident, {"content": [{"type": "text", "text": "done"}],
                           "_meta": {"cost_usd": 0.5 if MODE == "costly" else True}})
        else:
            params = message["params"]
            answer(ident, {"content": [{"type": "text", "text": json.dumps(params)},
                                       {"type": "image", "data": "AAAA", "mimeType": "image/png"}]})
"""


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A server data dir outside /tmp, with its secret and one agent's workspace holding the servers."""
    parent = Path(tempfile.mkdtemp(prefix="talkative-mcp-", dir="/var/tmp"))
    data = parent / "data"
    workspace = data / "workspaces" / "a"
    for folder in ("skills/crm", "skills/raw", "inputs", "outputs"):
        (workspace / folder).mkdir(parents=True)
    (data / "jwt-secret").write_text(SECRET)
    (workspace / "skills" / "crm" / "server.py").write_text(textwrap.dedent(SDK_SERVER))
    (workspace / "skills" / "raw" / "server.py").write_text(textwrap.dedent(RAW_SERVER))
    (workspace / "inputs" / "note.txt").write_text("inside the workspace")
    try:
        yield data
    finally:
        shutil.rmtree(parent)


@pytest.fixture
def workspace(data_dir: Path) -> Path:
    return data_dir / "workspaces" / "a"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(TALKATIVE_DATA_DIR=data_dir, AUTH_JWT_SECRET="x" * 48)  # sandbox: required


@pytest.fixture
def limits(settings: Settings) -> ToolLimits:
    return tool_limits(settings)


async def _call(
    workspace: Path,
    settings: Settings,
    limits: ToolLimits,
    tool: str,
    command: str = SDK,
    **arguments: object,
) -> local.LocalCallResult:
    return await within(
        local.call_tool(
            workspace=workspace,
            command=command,
            tool=tool,
            arguments=arguments,
            settings=settings,
            limits=limits,
        )
    )


async def test_lists_the_tools_of_an_sdk_server_inside_the_sandbox(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    tools = await within(local.list_tools(workspace=workspace, command=SDK, settings=settings, limits=limits))

    by_name = {tool.name: tool for tool in tools}
    assert sorted(by_name) == ["add", "big", "big_structured", "overwrite", "read", "refuse", "step"]
    assert by_name["add"].description == "Adds two numbers."
    assert by_name["add"].input_schema["required"] == ["a", "b"]
    assert by_name["add"].input_schema["properties"]["a"]["type"] == "integer"

    found = await within(local.discover(workspace=workspace, command=SDK, settings=settings, limits=limits))
    assert found.server["name"] == "crm"
    assert found.protocol_version == "2025-11-25"
    assert not found.truncated and found.skipped == []
    # It ran in the skill sandbox, with every layer.
    assert found.result.metrics.isolated
    assert found.result.metrics.sandbox is not None and found.result.metrics.sandbox.missing == []
    # The request file is gone; the bridge stays (rewritten before every run).
    assert sorted(path.name for path in (workspace / ".talkative" / "mcp").glob("*.json")) == []


async def test_without_the_fork_server_too(data_dir: Path, workspace: Path, limits: ToolLimits) -> None:
    settings = Settings(
        TALKATIVE_DATA_DIR=data_dir, AUTH_JWT_SECRET="x" * 48, TALKATIVE_TOOL_FORK_SERVER=False
    )
    result = await _call(workspace, settings, limits, "add", a=20, b=22)
    assert result.ok and result.structured == {"total": 42} and result.metrics.isolated, result


async def test_calls_a_tool_with_arguments_text_and_structured_content(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    result = await _call(workspace, settings, limits, "add", a=2, b=40)

    assert result.ok and not result.is_error, result
    assert result.structured == {"total": 42}
    assert json.loads(result.content) == {"total": 42}
    assert result.error_code is None and result.metrics.isolated


async def test_a_tools_own_error_comes_back_as_is_error(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    refused = await _call(workspace, settings, limits, "refuse", reason="no such customer")
    assert refused.ok and refused.is_error
    assert "refused: no such customer" in refused.content

    unknown = await _call(workspace, settings, limits, "nope")  # the SDK says so as a tool error
    assert unknown.ok and unknown.is_error and "nope" in unknown.content


async def test_the_sandboxed_server_cannot_read_the_data_dirs_secret(
    workspace: Path, data_dir: Path, settings: Settings, limits: ToolLimits
) -> None:
    inside = await _call(workspace, settings, limits, "read", path=str(workspace / "inputs" / "note.txt"))
    assert inside.ok and not inside.is_error and inside.content == "inside the workspace"

    secret = await _call(workspace, settings, limits, "read", path=str(data_dir / "jwt-secret"))

    assert secret.ok and secret.is_error, secret
    assert "FileNotFoundError" in secret.content
    assert SECRET not in secret.content + secret.result.stdout + secret.result.stderr


async def test_a_server_cannot_change_the_bridge_and_a_planted_link_is_replaced(
    workspace: Path, data_dir: Path, settings: Settings, limits: ToolLimits
) -> None:
    bridge = workspace / ".talkative" / "mcp" / "mcp_bridge.py"
    first = await _call(workspace, settings, limits, "overwrite", path=str(bridge))
    assert first.ok and first.is_error and "OSError" in first.content, first
    assert bridge.read_bytes() == local.BRIDGE_SOURCE.read_bytes()

    # Whatever stands where the bridge goes is replaced by a plain folder, never written through.
    elsewhere = data_dir / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(workspace / ".talkative")
    (workspace / ".talkative").symlink_to(elsewhere)
    again = await _call(workspace, settings, limits, "add", a=1, b=1)
    assert again.ok and again.structured == {"total": 2}
    assert not (workspace / ".talkative").is_symlink()
    assert list(elsewhere.iterdir()) == []

    # A copy changed on disk (by anything but a run, which cannot) is replaced before the next run.
    bridge.write_text('print(\'{"ok": true, "tools": [], "skipped": [], "truncated": false}\')\n')
    tools = await within(local.list_tools(workspace=workspace, command=SDK, settings=settings, limits=limits))
    assert "add" in [tool.name for tool in tools]
    assert bridge.read_bytes() == local.BRIDGE_SOURCE.read_bytes()


async def test_the_step_identity_reaches_the_server(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    step = StepIdentity(idempotency_key="run_abc:3", attempt=2)
    result = await within(
        local.call_tool(
            workspace=workspace,
            command=SDK,
            tool="step",
            arguments={},
            settings=settings,
            limits=limits,
            step=step,
        )
    )
    assert result.ok and result.content == "run_abc:3#2"


async def test_a_hand_written_server_older_protocol_junk_and_server_requests(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    found = await within(
        local.discover(workspace=workspace, command=f"{RAW} chatty", settings=settings, limits=limits)
    )

    assert [tool.name for tool in found.tools] == ["echo"]
    assert found.skipped == [{"name": "no_schema", "reason": "no input schema object"},
                             {"name": "", "reason": "no name"}]  # fmt: skip
    assert found.protocol_version == "2025-06-18" and found.server == {"name": "raw", "version": "9"}

    result = await _call(workspace, settings, limits, "echo", command=f"{RAW} chatty", text="héllo")
    assert result.ok and not result.is_error and result.structured is None
    sent, image = result.content.split("\n")
    assert json.loads(sent) == {"name": "echo", "arguments": {"text": "héllo"}}
    assert image == "[image image/png]"


async def test_a_cost_in_meta_is_passed_on_and_only_a_number(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    costly = await _call(workspace, settings, limits, "echo", command=f"{RAW} costly")
    free = await _call(workspace, settings, limits, "echo", command=f"{RAW} free")

    assert costly.ok and costly.content == "done" and costly.meta_cost_usd == 0.5
    assert free.ok and free.meta_cost_usd is None  # `true` is no cost


async def test_a_json_rpc_error_is_an_rpc_error(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    result = await _call(workspace, settings, limits, "nope", command=f"{RAW} refuse")
    assert not result.ok and result.error_code == LocalErrorCode.RPC_ERROR
    assert result.rpc_code == -32602 and result.error_message is not None
    assert "Unknown tool: nope" in result.error_message


async def test_a_server_that_crashes_is_a_clear_error(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    with pytest.raises(LocalMcpError) as raised:
        await within(
            local.list_tools(workspace=workspace, command=f"{RAW} crash", settings=settings, limits=limits)
        )
    assert raised.value.code == LocalErrorCode.SERVER_EXITED
    assert "exited with status 3 before answering initialize" in raised.value.message
    assert raised.value.result is not None and "missing configuration" in raised.value.result.stderr

    died = await _call(workspace, settings, limits, "echo", command=f"{RAW} die")
    assert not died.ok and died.error_code == LocalErrorCode.SERVER_EXITED
    assert died.error_message is not None and "status 7 before answering tools/call" in died.error_message


async def test_a_server_that_never_answers_fails_within_the_runs_time_limit(
    workspace: Path, settings: Settings
) -> None:
    limits = ToolLimits(timeout_s=6.0)
    result = await _call(workspace, settings, limits, "echo", command=f"{RAW} silent")

    assert not result.ok and result.error_code == LocalErrorCode.SERVER_TIMEOUT, result
    assert result.error_message == "the MCP server did not answer initialize in time"


async def test_cancel_stops_the_exchange(workspace: Path, settings: Settings, limits: ToolLimits) -> None:
    cancel = asyncio.Event()
    call = asyncio.create_task(
        local.call_tool(
            workspace=workspace,
            command=f"{RAW} cancel",
            tool="echo",
            arguments={},
            settings=settings,
            limits=limits,
            cancel=cancel,
        )
    )
    await eventually((workspace / "outputs" / "started").exists, what="the server never started")
    cancel.set()
    result = await within(call)

    assert not result.ok and result.error_code == ToolErrorCode.CANCELLED


async def test_output_is_bounded(workspace: Path, settings: Settings) -> None:
    limits = ToolLimits(output_cap_bytes=16 * 1024)

    text = await _call(workspace, settings, limits, "big", size=100_000)
    assert text.ok and text.content_truncated
    assert 8 * 1024 < len(text.content) < 16 * 1024 and set(text.content) == {"x"}
    assert not text.result.metrics.stdout_truncated

    structured = await _call(workspace, settings, limits, "big_structured", size=100_000)
    assert structured.ok and structured.structured is None and structured.structured_dropped
    assert structured.content_truncated  # the same JSON as text, cut

    small = await _call(workspace, settings, limits, "big_structured", size=100)
    assert small.structured == {"blob": "y" * 100} and not small.structured_dropped


async def test_one_message_larger_than_the_bound_is_refused(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    with pytest.raises(LocalMcpError) as raised:
        await within(
            local.list_tools(workspace=workspace, command=f"{RAW} huge", settings=settings, limits=limits)
        )
    assert raised.value.code == LocalErrorCode.MESSAGE_TOO_LARGE

    with pytest.raises(LocalMcpError) as deep:
        await within(
            local.list_tools(workspace=workspace, command=f"{RAW} deep", settings=settings, limits=limits)
        )
    assert deep.value.code == LocalErrorCode.PROTOCOL_ERROR and "nested" in deep.value.message

    result = await _call(workspace, settings, limits, "big", size=local.MAX_MESSAGE_BYTES + 1)
    assert not result.ok and result.error_code == LocalErrorCode.MESSAGE_TOO_LARGE


async def test_the_number_of_tools_and_pages_is_bounded(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    found = await within(
        local.discover(workspace=workspace, command=f"{RAW} many", settings=settings, limits=limits)
    )
    assert len(found.tools) == local.MAX_TOOLS and found.truncated
    assert found.tools[-1].name == f"tool_1_{local.MAX_TOOLS - 101}"  # pages read in order


async def test_only_a_skill_script_may_be_a_server(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    (workspace / "outputs" / "server.py").write_text(textwrap.dedent(RAW_SERVER))
    with pytest.raises(LocalMcpError) as raised:
        await local.list_tools(
            workspace=workspace, command="python outputs/server.py", settings=settings, limits=limits
        )
    assert raised.value.code == LocalErrorCode.NOT_A_SKILL_SCRIPT

    outside = await _call(workspace, settings, limits, "x", command="python ../../jwt-secret.py")
    assert not outside.ok and outside.error_code == ToolErrorCode.PATH_OUTSIDE_WORKSPACE

    shell = await _call(workspace, settings, limits, "x", command=f"{SDK}; rm -rf inputs")
    assert not shell.ok and shell.error_code == ToolErrorCode.COMMAND_REFUSED
    assert (workspace / "inputs" / "note.txt").exists()


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (SDK, None),
        ("python3 skills/crm/server.py --port-file inputs/x", None),
        ("python skills/server.py", "skill folder"),
        ("python inputs/server.py", "skill folder"),
        ("python skills/../inputs/server.py", "skill folder"),
        ("python /work/skills/crm/server.py", "skill folder"),
        ("node skills/crm/server.js", "python skills/<skill>/<script>.py"),
        ("python skills/crm/server.py; rm -rf /", "shell syntax"),
        ("python 'skills/crm/server.py", "unparsable"),
        ("python skills/crm/" + "x" * local.MAX_COMMAND_CHARS + ".py", "at most"),
    ],
)
def test_a_command_is_checked_before_it_is_registered(command: str, problem: str | None) -> None:
    found = local.command_problem(command)
    assert found == problem if problem is None else (found is not None and problem in found), found


async def test_oversized_requests_are_refused_before_anything_runs(
    workspace: Path, settings: Settings, limits: ToolLimits
) -> None:
    too_long = await _call(workspace, settings, limits, "t" * (local.MAX_TOOL_NAME + 1))
    assert not too_long.ok and too_long.error_code == LocalErrorCode.INVALID_REQUEST

    too_big = await _call(workspace, settings, limits, "add", blob="z" * local.MAX_ARGUMENTS_BYTES)
    assert not too_big.ok and too_big.error_code == LocalErrorCode.INVALID_REQUEST
    assert not (workspace / ".talkative").exists()  # nothing was installed, nothing ran
