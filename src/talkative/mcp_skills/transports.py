"""Which transport reaches a server: the one place a server row's `transport` is dispatched on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talkative.errors import InvalidInput
from talkative.mcp_skills import client, local
from talkative.mcp_skills.client import McpFailure, ToolCallOutcome, ToolInfo
from talkative.mcp_skills.models import McpServer, Transport
from talkative.settings import Settings
from talkative.skills import pins
from talkative.tools.policy import split_command
from talkative.tools.schemas import StepIdentity, ToolLimits

# Of a local server's failure kept in the message: the sandbox's refusal names each missing layer
# and then how to fix it, which must not be cut off.
MAX_FAILURE_CHARS = 2000


class TransportUnavailable(InvalidInput):
    code = "MCP_TRANSPORT_UNAVAILABLE"


@dataclass(frozen=True)
class Access:
    """How to reach a server, copied from its row (used outside any transaction)."""

    server_id: str
    name: str
    transport: str
    url: str | None
    command: str | None
    credentials: dict[str, str] = field(repr=False)  # never in a repr, so never in a log line
    agent_id: str | None = None  # a `command` server's home agent

    @classmethod
    def of(cls, server: McpServer) -> Access:
        return cls(
            server.id,
            server.name,
            server.transport,
            server.url,
            server.command,
            dict(server.credentials),
            server.agent_id,
        )


def _url(access: Access) -> str:
    if access.url is None:
        raise TransportUnavailable(f"MCP server '{access.name}' has no URL")
    return access.url


def skill_folder_of(command: str) -> str | None:
    """`skills/<skill>`: the skill folder a `command` server's script is in (None: no valid command)."""
    if local.command_problem(command) is not None:
        return None
    return "/".join(Path(split_command(command)[1]).parts[:2])


def source_digest(access: Access, workspace: Path | None) -> tuple[str, str]:
    """(the command, the digest of its script's skill folder in `workspace`); raises McpFailure when
    the workspace does not hold that folder."""
    if access.command is None:
        raise TransportUnavailable(f"MCP server '{access.name}' has no command")
    folder = skill_folder_of(access.command)
    if folder is None:
        raise McpFailure(f"the command of MCP server '{access.name}' is not a skill folder's script")
    if workspace is None:
        raise McpFailure(f"MCP server '{access.name}' runs in an agent's workspace, and none was given")
    try:
        return access.command, pins.skill_digest(workspace / folder)
    except pins.UnhashableSkill:
        message = f"the agent's workspace has no skill folder {folder} for MCP server '{access.name}'"
        raise McpFailure(message) from None


async def _local_tools(
    settings: Settings,
    access: Access,
    workspace: Path,
    limits: ToolLimits,
    cancel: asyncio.Event | None = None,
) -> list[ToolInfo]:
    command, source = await asyncio.to_thread(source_digest, access, workspace)
    try:
        found = await local.list_tools(
            workspace=workspace, command=command, settings=settings, limits=limits, cancel=cancel
        )
    except local.LocalMcpError as exc:
        raise McpFailure(f"listing the tools: {exc.code}: {exc.message}"[:MAX_FAILURE_CHARS]) from None
    if len(found) > client.MAX_TOOLS:
        raise McpFailure(f"the server lists more than {client.MAX_TOOLS} tools")
    return [ToolInfo(t.name, t.description, t.input_schema, source) for t in found]


async def list_tools(
    settings: Settings, access: Access, *, limits: ToolLimits, workspace: Path | None = None
) -> list[ToolInfo]:
    """The server's tools now. `workspace`: where a `command` server runs (the agent workspace holding
    its script: the home agent's when registering or refreshing). Each tool of a `command` server is
    digested with its skill folder's digest there. Raises McpFailure, or TransportUnavailable."""
    if access.transport == Transport.COMMAND:
        if workspace is None:
            raise McpFailure(f"MCP server '{access.name}' runs in an agent's workspace, and none was given")
        return await _local_tools(settings, access, workspace, limits)
    return await client.list_tools(
        _url(access),
        access.credentials,
        allow_private=settings.mcp_allow_private,
        timeout_s=settings.mcp_timeout_s,
    )


async def call_tool(
    settings: Settings,
    access: Access,
    *,
    tool: str,
    arguments: dict[str, Any],
    expected_digest: str,
    limits: ToolLimits,
    workspace: Path | None = None,
    cancel: asyncio.Event | None = None,
    step: StepIdentity | None = None,
) -> tuple[ToolInfo | None, ToolCallOutcome | None]:
    """The tool as listed now and, if its digest is `expected_digest`, the outcome of calling it
    (client.call_tool). `workspace`: the calling agent's, where a `command` server runs: there it
    is listed in one sandboxed run and called in a second (the bridge speaks one request a run).
    `cancel`, `step`: the calling step's, for those runs. Raises McpFailure, or TransportUnavailable."""
    if access.transport == Transport.COMMAND:
        if workspace is None:
            raise McpFailure(f"MCP server '{access.name}' runs in an agent's workspace, and none was given")
        listed = await _local_tools(settings, access, workspace, limits, cancel)
        live = next((info for info in listed if info.name == tool), None)
        if live is None or live.digest != expected_digest:
            return live, None
        assert access.command is not None  # (_local_tools checked it)
        called = await local.call_tool(
            workspace=workspace,
            command=access.command,
            tool=tool,
            arguments=arguments,
            settings=settings,
            limits=limits,
            cancel=cancel,
            step=step,
        )
        if not called.ok:
            raise McpFailure(
                f"calling {tool}: {called.error_code}: {called.error_message}"[:MAX_FAILURE_CHARS]
            )
        outcome = ToolCallOutcome(
            ok=not called.is_error,
            text=client.trim(called.content),
            structured=called.structured,
            cost_usd=client.cost_of({"cost_usd": called.meta_cost_usd}, called.structured),
        )
        return live, outcome
    return await client.call_tool(
        _url(access),
        access.credentials,
        tool=tool,
        arguments=arguments,
        expected_digest=expected_digest,
        allow_private=settings.mcp_allow_private,
        timeout_s=settings.mcp_timeout_s,
    )
