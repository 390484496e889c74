"""Local MCP servers: an admin's `python <script>.py ...` in a skill folder, run in the skill sandbox.

The MCP exchange happens entirely inside the sandbox a skill run gets (tools/service.run_tool: no
network, nothing of the host but the allow-list, the run's limits, cancel): the server never runs
on the host. A small stdlib client, `bridge.py`, is copied into the workspace's `.talkative/mcp/`
(read-only to every run, rewritten before each one, so nothing a run does can change the next
one's copy) and run as the command; it starts the server as its own child over stdio pipes,
speaks MCP to it and prints one JSON line that this module turns into results. The request (the
server's command, the tool and its arguments) goes in a file next to it, removed after the run.

    tools = await list_tools(workspace=..., command="python skills/crm/server.py", settings=..., limits=...)
    result = await call_tool(workspace=..., command=..., tool="add", arguments={"a": 1}, ...)

A failure of the sandbox, the server or the protocol is a LocalMcpError from `list_tools`, and
an `ok=False` LocalCallResult from `call_tool`; a tool's own error (`isError`) is `ok=True,
is_error=True`: the exchange worked, the tool said no.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from talkative import __version__
from talkative.settings import Settings
from talkative.tools import isolation
from talkative.tools.policy import INTERPRETERS, CommandRefused, prepare_command, split_command
from talkative.tools.schemas import (
    StepIdentity,
    ToolErrorCode,
    ToolLimits,
    ToolMetrics,
    ToolResult,
)
from talkative.tools.service import run_tool

BRIDGE_SOURCE = Path(__file__).resolve().with_name("bridge.py")
FOLDER = Path(".talkative", "mcp")  # in the workspace, outside inputs/ and outputs/: read-only to runs
BRIDGE_NAME = "mcp_bridge.py"
SKILLS = "skills"
MAX_TOOLS = 128  # tools kept from one server; the rest are left out and `truncated` says so
MAX_PAGES = 16  # tools/list pages read
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # one JSON-RPC message from the server
MAX_ARGUMENTS_BYTES = 256 * 1024  # a call's arguments, as JSON
MAX_TOOL_NAME = 128
MAX_COMMAND_CHARS = 4096
DEADLINE_MARGIN_S = 2.0  # the bridge gives up this much before the run's time limit (at most a quarter)


class LocalErrorCode(StrEnum):
    """Why an exchange with a local server failed, besides the sandbox's own ToolErrorCodes
    (TIMEOUT, CANCELLED, SANDBOX_UNAVAILABLE, COMMAND_REFUSED, SCRIPT_NOT_FOUND...)."""

    NOT_A_SKILL_SCRIPT = "NOT_A_SKILL_SCRIPT"  # the server's script is not under skills/
    INVALID_REQUEST = "INVALID_REQUEST"  # a tool name or arguments this client will not send
    SERVER_FAILED = "SERVER_FAILED"  # could not be started
    SERVER_EXITED = "SERVER_EXITED"  # exited (or closed its output) before answering
    SERVER_TIMEOUT = "SERVER_TIMEOUT"  # did not answer before the run's time limit
    PROTOCOL_ERROR = "PROTOCOL_ERROR"  # answered something that is not MCP
    RPC_ERROR = "RPC_ERROR"  # answered with a JSON-RPC error (`rpc_code`), e.g. an unknown tool
    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"  # one message larger than MAX_MESSAGE_BYTES
    BRIDGE_FAILED = "BRIDGE_FAILED"  # the in-sandbox client gave no answer


@dataclass(frozen=True, slots=True)
class LocalTool:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LocalToolList:
    tools: list[LocalTool]
    skipped: list[dict[str, str]]  # {"name", "reason"}: tools the server listed that were unusable
    truncated: bool  # more tools than MAX_TOOLS (or than fit the run's output cap)
    protocol_version: str  # what the server answered to initialize
    server: dict[str, str]  # its serverInfo name and version
    result: ToolResult  # the sandboxed run that listed them (metrics, stderr)


@dataclass(frozen=True, slots=True)
class LocalCallResult:
    ok: bool  # the exchange worked (the tool itself may still have failed: `is_error`)
    content: str  # the text blocks joined by newlines; other blocks as "[image image/png]"
    structured: dict[str, Any] | None
    is_error: bool  # the tool's own error (MCP `isError`)
    error_code: str | None  # a LocalErrorCode or a ToolErrorCode when not ok
    error_message: str | None
    metrics: ToolMetrics
    result: ToolResult
    rpc_code: int | None = None  # the JSON-RPC error code (RPC_ERROR)
    content_truncated: bool = False  # cut to fit the run's output cap
    structured_dropped: bool = False  # too large for the run's output cap
    protocol_version: str | None = None
    server: dict[str, str] = field(default_factory=dict)
    meta_cost_usd: float | None = None  # the result's `_meta.cost_usd`, unchecked (client.cost_of checks)


class LocalMcpError(Exception):
    """Listing a local server's tools failed; `code` is a LocalErrorCode or a ToolErrorCode."""

    def __init__(self, code: str, message: str, result: ToolResult | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.result = result


async def list_tools(
    *,
    workspace: Path,
    command: str,
    settings: Settings,
    limits: ToolLimits,
    cancel: asyncio.Event | None = None,
) -> list[LocalTool]:
    """The tools of the local MCP server `command`; raises LocalMcpError."""
    found = await discover(
        workspace=workspace, command=command, settings=settings, limits=limits, cancel=cancel
    )
    return found.tools


async def discover(
    *,
    workspace: Path,
    command: str,
    settings: Settings,
    limits: ToolLimits,
    cancel: asyncio.Event | None = None,
) -> LocalToolList:
    """`list_tools` with what was left out and the run itself; raises LocalMcpError."""
    answer, result = await _exchange(workspace, command, {"action": "list"}, settings, limits, cancel, None)
    if not answer.get("ok"):
        code, message, _rpc = _error_of(answer, result)
        raise LocalMcpError(code, message, result)
    try:
        tools = [
            LocalTool(
                name=str(tool["name"]),
                description=str(tool["description"]),
                input_schema=tool["input_schema"],
            )
            for tool in answer["tools"]
        ]
        skipped = [{"name": str(item["name"]), "reason": str(item["reason"])} for item in answer["skipped"]]
    except (KeyError, TypeError) as exc:
        raise LocalMcpError(LocalErrorCode.BRIDGE_FAILED, f"unreadable answer: {exc!r}", result) from exc
    if not all(isinstance(tool.input_schema, dict) for tool in tools):
        raise LocalMcpError(
            LocalErrorCode.BRIDGE_FAILED, "unreadable answer: a schema is not an object", result
        )
    return LocalToolList(
        tools=tools,
        skipped=skipped,
        truncated=answer.get("truncated") is True,
        protocol_version=str(answer.get("protocol_version", "")),
        server=_server(answer),
        result=result,
    )


async def call_tool(
    *,
    workspace: Path,
    command: str,
    tool: str,
    arguments: dict[str, Any],
    settings: Settings,
    limits: ToolLimits,
    cancel: asyncio.Event | None = None,
    step: StepIdentity | None = None,
) -> LocalCallResult:
    """Call `tool` of the local MCP server `command` once; never raises for the server's faults.
    `step`: the run step this call carries out, told to the server as to a skill (skills/once.py)."""
    request = {"action": "call", "tool": tool, "arguments": arguments}
    invalid = _invalid_call(tool, arguments)
    if invalid is not None:
        refused = ToolResult.not_run([command], ToolErrorCode.COMMAND_REFUSED, invalid)
        return _failed(LocalErrorCode.INVALID_REQUEST, invalid, refused)
    answer, result = await _exchange(workspace, command, request, settings, limits, cancel, step)
    call = answer.get("call")
    if not answer.get("ok") or not isinstance(call, dict):
        code, message, rpc_code = _error_of(answer, result)
        return _failed(code, message, result, rpc_code)
    structured = call.get("structured")
    return LocalCallResult(
        ok=True,
        content=str(call.get("text", "")),
        structured=structured if isinstance(structured, dict) else None,
        is_error=call.get("is_error") is True,
        error_code=None,
        error_message=None,
        metrics=result.metrics,
        result=result,
        meta_cost_usd=_number(call.get("cost_usd")),
        content_truncated=call.get("text_truncated") is True,
        structured_dropped=call.get("structured_dropped") is True,
        protocol_version=str(answer.get("protocol_version", "")),
        server=_server(answer),
    )


def command_problem(command: str) -> str | None:
    """What is wrong with `command` as a local MCP server's, checked without a workspace (when an
    admin registers it), or None. Every run checks it again against the workspace as it is then."""
    if len(command) > MAX_COMMAND_CHARS:
        return f"a command has at most {MAX_COMMAND_CHARS} characters"
    try:
        argv = split_command(command)
    except CommandRefused as refusal:
        return refusal.message
    if len(argv) < 2 or argv[0] not in INTERPRETERS or not argv[1].endswith(".py"):
        return "a local MCP server's command is `python skills/<skill>/<script>.py [args...]`"
    parts = Path(argv[1]).parts
    if argv[1].startswith("/") or ".." in parts or len(parts) < 3 or parts[0] != SKILLS:
        return f"the server's script must be in a skill folder (skills/<skill>/...), not {argv[1]!r}"
    return None


def _invalid_call(tool: str, arguments: dict[str, Any]) -> str | None:
    if not tool or len(tool) > MAX_TOOL_NAME:
        return f"a tool name has 1 to {MAX_TOOL_NAME} characters"
    try:
        size = len(json.dumps(arguments))
    except (TypeError, ValueError) as exc:
        return f"the arguments are not JSON: {exc}"
    if size > MAX_ARGUMENTS_BYTES:
        return f"the arguments are larger than {MAX_ARGUMENTS_BYTES} bytes as JSON"
    return None


async def _exchange(
    workspace: Path,
    command: str,
    request: dict[str, Any],
    settings: Settings,
    limits: ToolLimits,
    cancel: asyncio.Event | None,
    step: StepIdentity | None,
) -> tuple[dict[str, Any], ToolResult]:
    """Runs the bridge for `request` in the sandbox: (its answer, the run)."""
    try:
        server = prepare_command(workspace, command)
    except CommandRefused as refusal:
        return _refusal(refusal.code, refusal.code, refusal.message, command)
    if not server.script.is_relative_to(server.workspace / SKILLS):
        message = f"a local MCP server is a script in a skill folder (skills/...), not {server.script.name}"
        return _refusal(LocalErrorCode.NOT_A_SKILL_SCRIPT, ToolErrorCode.COMMAND_REFUSED, message, command)
    margin = min(DEADLINE_MARGIN_S, limits.timeout_s / 4)
    request = {
        **request,
        "server": {"script": str(server.script), "args": server.args},
        "deadline_s": limits.timeout_s - margin,
        "max_message_bytes": MAX_MESSAGE_BYTES,
        "max_result_bytes": limits.output_cap_bytes,
        "max_tools": MAX_TOOLS,
        "max_pages": MAX_PAGES,
        "client_version": __version__,
    }
    bridge, request_file = await asyncio.to_thread(_install, server.workspace, request)
    try:
        result = await run_tool(
            workspace=server.workspace,
            command=["python", bridge, request_file],
            limits=limits,
            cancel=cancel,
            hidden_paths=isolation.hidden_paths(settings),
            fork_server=settings.tool_fork_server,
            sandbox=isolation.policy_for(settings),
            step=step,
        )
    finally:
        await asyncio.to_thread(_remove, server.workspace / request_file)
    answer = result.skillReport if result.skillReport is not None else {}
    return answer, result


def _install(workspace: Path, request: dict[str, Any]) -> tuple[str, str]:
    """Writes a fresh bridge and the request file into the workspace; their relative paths.

    Whatever stands at `.talkative/mcp` and is not a plain folder (a link, a file) is removed
    first, and the bridge is replaced whole (write, then rename), never written through a link.
    """
    folder = workspace
    for part in FOLDER.parts:
        folder = folder / part
        _plain_folder(folder)
    token = secrets.token_hex(8)
    bridge = folder / BRIDGE_NAME
    _write(folder / f".{BRIDGE_NAME}.{token}.tmp", BRIDGE_SOURCE.read_bytes(), bridge)
    request_name = f"request-{token}.json"
    _write(folder / f".{request_name}.tmp", json.dumps(request).encode(), folder / request_name)
    return str(FOLDER / BRIDGE_NAME), str(FOLDER / request_name)


def _plain_folder(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    elif path.is_dir() and not path.is_symlink():
        path.chmod(0o755)
        return
    path.mkdir(mode=0o755, exist_ok=True)
    if path.is_symlink() or not path.is_dir():  # someone raced us: refuse rather than follow it
        raise OSError(f"{path} is not a plain folder")
    path.chmod(0o755)  # readable by the sandbox uid whatever the umask


def _write(partial: Path, data: bytes, target: Path) -> None:
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        partial.chmod(0o644)
        os.replace(partial, target)
    except BaseException:
        _remove(partial)
        raise


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return


def _error_of(answer: dict[str, Any], result: ToolResult) -> tuple[str, str, int | None]:
    """(code, message, JSON-RPC code) of a failed exchange: the bridge's, else the sandbox's."""
    error = answer.get("error")
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        rpc_code = error.get("rpc_code")
        return error["code"], str(error.get("message", "")), rpc_code if isinstance(rpc_code, int) else None
    if result.error is not None:
        message = result.error.message
        if result.error.code is ToolErrorCode.TIMEOUT:
            message = f"the local MCP server did not finish: {message}"
        return str(result.error.code), message, None
    return LocalErrorCode.BRIDGE_FAILED, "the local MCP client gave no answer", None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _server(answer: dict[str, Any]) -> dict[str, str]:
    server = answer.get("server")
    return {str(key): str(value) for key, value in server.items()} if isinstance(server, dict) else {}


def _refusal(
    code: str, run_code: ToolErrorCode, message: str, command: str
) -> tuple[dict[str, Any], ToolResult]:
    return {"ok": False, "error": {"code": code, "message": message}}, ToolResult.not_run(
        [command], run_code, message
    )


def _failed(code: str, message: str, result: ToolResult, rpc_code: int | None = None) -> LocalCallResult:
    return LocalCallResult(
        ok=False,
        content="",
        structured=None,
        is_error=False,
        error_code=str(code),
        error_message=message,
        metrics=result.metrics,
        result=result,
        rpc_code=rpc_code,
    )
