"""`/mcp`: the MCP endpoint behind the same authentication as the rest of the API (a reader's
token at least; each tool then asks the API with that token, so a viewer's writing tool is refused
by the API's own policy)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Request, Response
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from talkative.auth.dependencies import Reader
from talkative.mcp_server.bridge import ApiBridge
from talkative.mcp_server.server import build

PATH = "/mcp"
router = APIRouter(tags=["mcp"])


class McpEndpoint:
    """The SDK's Streamable HTTP app for one FastAPI app, started and stopped with it."""

    def __init__(self) -> None:
        self.bridge = ApiBridge()
        self.server = build(self.bridge)
        # Stateless, JSON answers: any process of a cluster answers any request, and nothing is
        # held between requests. DNS-rebinding protection guards servers reachable without a
        # credential; every request here needs a bearer token a rebinding page cannot have.
        self.server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.asgi: ASGIApp = StreamableHTTPASGIApp(self.server.session_manager)

    @asynccontextmanager
    async def running(self, app: ASGIApp) -> AsyncIterator[None]:
        """The SDK's session manager runs in a task of its own: its task group must be left in the
        task that entered it, which a lifespan's start and end need not share."""
        self.bridge.attach(app)
        started, stop = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with self.server.session_manager.run():
                started.set()
                await stop.wait()

        task = asyncio.create_task(hold(), name="mcp-session-manager")
        waiter = asyncio.ensure_future(started.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                task.result()  # it failed to start: say why
            yield
        finally:
            stop.set()
            await task
            await self.bridge.close()


class _Delegated(Response):
    """Hands the request, body unread, to an ASGI app that writes the answer itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@router.api_route(PATH, methods=["GET", "POST", "DELETE"], include_in_schema=False)
async def mcp(request: Request, _: Reader) -> Response:
    endpoint: McpEndpoint = request.app.state.mcp
    return _Delegated(endpoint.asgi)
