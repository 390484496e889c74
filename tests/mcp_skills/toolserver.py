"""A small MCP server written with the SDK, served for real (uvicorn, a thread, a free loopback
port) over Streamable HTTP. It wants a bearer token, reports a cost with each `lookup`, and the
description of `lookup` can be changed while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent
from starlette.types import Receive, Scope, Send

from tests.waiting import eventually_sync

LOOKUP_DESCRIPTION = "Look up an order by its text and answer what was found."
COST_USD = 0.25


@dataclass
class ToolServer:
    token: str
    port: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)  # the arguments of every lookup
    refused: int = 0  # requests without the right bearer token
    # Cleared: every request waits (counted in `held`) until it is set again.
    proceed: threading.Event = field(default_factory=threading.Event)
    held: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    mcp: MCPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def lookups(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.calls)

    def describe_lookup(self, description: str) -> None:
        """Changes the description `lookup` is listed with (its digest changes with it)."""
        assert self.mcp is not None
        self.mcp.remove_tool("lookup")
        self.mcp.add_tool(self._lookup, name="lookup", description=description)

    def _lookup(self, text: str) -> CallToolResult:
        with self.lock:
            self.calls.append({"text": text})
        return CallToolResult(
            content=[TextContent(text=f"found order for: {text}")],
            structured_content={"found": True, "order": text},
            _meta={"cost_usd": COST_USD},
        )


def _build(tools: ToolServer) -> MCPServer:
    server: MCPServer = MCPServer("test-tools")
    server.add_tool(tools._lookup, name="lookup", description=LOOKUP_DESCRIPTION)

    def shout(words: str) -> str:
        return words.upper()

    server.add_tool(shout, name="shout", description="Say the words louder.")
    tools.mcp = server
    return server


@contextlib.contextmanager
def serving(token: str) -> Iterator[ToolServer]:
    tools = ToolServer(token=token)
    tools.proceed.set()
    server = _build(tools)
    inner = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                with tools.lock:
                    tools.refused += 1
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"no"})
                return
            if not tools.proceed.is_set():
                with tools.lock:
                    tools.held += 1
                await asyncio.to_thread(tools.proceed.wait)
        await inner(scope, receive, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    tools.port = sock.getsockname()[1]
    config = uvicorn.Config(guarded, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    eventually_sync(lambda: uv.started or None, what="the MCP test server never started")
    try:
        yield tools
    finally:
        uv.should_exit = True
        thread.join(timeout=30)
        sock.close()
