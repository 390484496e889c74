"""Which transport reaches a server: the one place a server row's `transport` is dispatched on."""

from __future__ import annotations

from dataclasses import dataclass, field
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


def _http_url(access: Access) -> str:
    if access.transport == Transport.HTTP and access.url:
        return access.url
    raise TransportUnavailable(
        f"MCP transport '{access.transport}' is not available on this server yet",
        code="MCP_TRANSPORT_UNAVAILABLE",
    )


async def list_tools(settings: Settings, access: Access) -> list[ToolInfo]:
    """Raises McpFailure, or TransportUnavailable."""
    return await client.list_tools(
        _http_url(access),
        access.credentials,
        allow_private=settings.mcp_allow_private,
        timeout_s=settings.mcp_timeout_s,
    )


async def call_tool(
    settings: Settings, access: Access, *, tool: str, arguments: dict[str, Any], expected_digest: str
) -> tuple[ToolInfo | None, ToolCallOutcome | None]:
    """Raises McpFailure, or TransportUnavailable."""
    return await client.call_tool(
        _http_url(access),
        access.credentials,
        tool=tool,
        arguments=arguments,
        expected_digest=expected_digest,
        allow_private=settings.mcp_allow_private,
        timeout_s=settings.mcp_timeout_s,
    )
