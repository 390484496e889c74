"""Each MCP tool is one call of Talkative's own HTTP API, made in-process with the caller's token.

So an MCP call is authorised exactly as the HTTP API authorises it (role and tenant from the
bearer JWT, the same policy table, the same validation and bounds), by construction: the MCP
layer holds no access rule of its own that could drift from the API's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from mcp.server.mcpserver.exceptions import ToolError
from starlette.types import ASGIApp

BASE_URL = "http://talkative.mcp"


class ApiBridge:
    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def attach(self, app: ASGIApp) -> None:
        self._client = httpx.AsyncClient(
            # No timeout of its own: the API's routes bound their waits (a message waits at
            # most TALKATIVE_MESSAGE_WAIT_S).
            transport=httpx.ASGITransport(app=app),
            base_url=BASE_URL,
            timeout=None,  # noqa: S113
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def call(
        self,
        headers: Mapping[str, str] | None,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """The API's answer as JSON; an API error becomes the tool's error, in the API's words."""
        if self._client is None:
            raise ToolError("the server is starting or stopping; try again")
        forwarded = {"authorization": (headers or {}).get("authorization", "")}
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        response = await self._client.request(method, path, headers=forwarded, json=json, params=query)
        if response.status_code >= 400:
            raise ToolError(_describe(response))
        return response.json() if response.content else None


def _describe(response: httpx.Response) -> str:
    """`CODE: message` from the API's error body ({"error": message, "code": CODE})."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and "error" in body:
        return f"{body.get('code', response.status_code)}: {body['error']}"
    return f"HTTP {response.status_code}"
