"""Which transport reaches a server: the one place a server row's `transport` is dispatched on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talkative.errors import InvalidInput
from talkative.mcp_skills import client
from talkative.mcp_skills.client import ToolCallOutcome, ToolInfo
from talkative.mcp_skills.models import McpServer, Transport
from talkative.settings import Settings


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

    @classmethod
    def of(cls, server: McpServer) -> Access:
        return cls(
            server.id, server.name, server.transport, server.url, server.command, dict(server.credentials)
        )


def _refuse_command(access: Access) -> None:
    """The `command` transport (A2's mcp_skills/local.py, wired in at merge) is not here yet."""
    raise TransportUnavailable(f"MCP transport '{access.transport}' is not available on this server yet")


def _url(access: Access) -> str:
    if access.url is None:
        raise TransportUnavailable(f"MCP server '{access.name}' has no URL")
    return access.url


async def list_tools(settings: Settings, access: Access, *, workspace: Path | None = None) -> list[ToolInfo]:
    """The server's tools now. `workspace`: where a `command` server runs (None: registering or
    refreshing, outside any agent). Raises McpFailure, or TransportUnavailable."""
    if access.transport != Transport.HTTP:
        _refuse_command(access)
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
    workspace: Path | None = None,
) -> tuple[ToolInfo | None, ToolCallOutcome | None]:
    """The tool as listed now and, if its digest is `expected_digest`, the outcome of calling it
    (client.call_tool). `workspace`: the calling agent's. Raises McpFailure, or TransportUnavailable."""
    if access.transport != Transport.HTTP:
        _refuse_command(access)
    return await client.call_tool(
        _url(access),
        access.credentials,
        tool=tool,
        arguments=arguments,
        expected_digest=expected_digest,
        allow_private=settings.mcp_allow_private,
        timeout_s=settings.mcp_timeout_s,
    )
