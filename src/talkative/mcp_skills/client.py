"""The Streamable HTTP transport: list a server's tools and call one, with the SDK's client.

Every connection goes to an address checked by the webhooks' rule (webhooks/targets.py: public
addresses only, unless the operator named the host in TALKATIVE_MCP_ALLOW_PRIVATE): the URL is
resolved and checked right before connecting, and the SDK's client is pointed at the checked
address (the Host header, and for https the TLS name, keep the server's name), so a DNS answer
that turns private later cannot redirect a call. The server's credentials are sent as headers and
are scrubbed from every error message this module hands back.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx2
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from mcp import Client
from talkative.webhooks import targets

MAX_TOOLS = 200  # a server listing more tools than this is refused
MAX_TEXT_CHARS = 20_000  # of a tool's result text kept in the step's result
MAX_COST_USD = 1_000_000.0  # a reported cost above this is not believed (not recorded)
COST_KEY = "cost_usd"  # in the result's `_meta`, or in its structured content: see docs/mcp.md


T = TypeVar("T")


class McpFailure(Exception):
    """The server could not be reached, refused us, or answered nonsense; the message says which
    and holds no credential."""


@dataclass(frozen=True)
class ToolInfo:
    name: str
    description: str
    input_schema: dict[str, Any]
    source: str | None = None  # a `command` server's skill folder digest (skills/pins.skill_digest)

    @property
    def digest(self) -> str:
        return tool_digest(self.name, self.description, self.input_schema, self.source)


@dataclass(frozen=True)
class ToolCallOutcome:
    ok: bool  # False: the tool said it failed (isError)
    text: str  # its text content, joined (trimmed to MAX_TEXT_CHARS)
    structured: Any  # its structured content, if any
    cost_usd: float | None  # what it reported it cost (see COST_KEY), if anything


def tool_digest(
    name: str, description: str, input_schema: Mapping[str, Any], source: str | None = None
) -> str:
    """sha256 of the canonical JSON of the tool's name, description and input schema, and for a
    local (`command`) server the digest of the skill folder its script is in (`source`): a changed
    server script changes every one of its tools' digests, as a changed description does."""
    identity: dict[str, Any] = {"name": name, "description": description, "input_schema": input_schema}
    if source is not None:
        identity["source"] = source
    canonical = json.dumps(
        identity,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every credential value in it replaced (an error may quote a request)."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


@asynccontextmanager
async def _connected(
    url: str, credentials: Mapping[str, str], *, allow_private: Iterable[str], timeout_s: float
) -> AsyncIterator[Client]:
    try:
        target = targets.parse(url)
        addresses = await targets.resolve(target, allow_private)
    except targets.TargetRefused as exc:
        raise McpFailure(f"refused: {exc}") from None
    headers = {**credentials, "Host": target.host_header}

    async def tls_name(request: httpx2.Request) -> None:
        request.extensions["sni_hostname"] = target.host

    hooks = {"request": [tls_name]} if target.scheme == "https" else {}
    timeout = httpx2.Timeout(timeout_s)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks=hooks) as http:
        transport = streamable_http_client(target.url_at(addresses[0]), http_client=http)
        # No response cache: a listing must be the server's word now (its digests are checked).
        async with Client(transport, cache=None, read_timeout_seconds=timeout_s) as client:
            yield client


async def _guarded(
    work: Callable[[], Awaitable[T]], credentials: Mapping[str, str], timeout_s: float, what: str
) -> T:
    secrets = list(credentials.values())
    try:
        async with asyncio.timeout(timeout_s):
            return await work()
    except McpFailure:
        raise
    except TimeoutError:
        raise McpFailure(f"{what}: no answer within {timeout_s:g}s") from None
    except Exception as exc:  # the SDK and the HTTP client raise many kinds: all are the server's failure
        detail = scrub(_describe(exc), secrets)
        raise McpFailure(f"{what}: {detail}"[:500]) from None


def _describe(exc: BaseException) -> str:
    # A task group wraps the transport's failure: say what actually went wrong.
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def list_tools(
    url: str, credentials: Mapping[str, str], *, allow_private: Iterable[str], timeout_s: float
) -> list[ToolInfo]:
    """Every tool the server lists now (all pages); raises McpFailure."""

    async def work() -> list[ToolInfo]:
        found: list[ToolInfo] = []
        async with _connected(url, credentials, allow_private=allow_private, timeout_s=timeout_s) as client:
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                for tool in page.tools:
                    found.append(ToolInfo(tool.name, tool.description or "", dict(tool.input_schema)))
                if len(found) > MAX_TOOLS:
                    raise McpFailure(f"the server lists more than {MAX_TOOLS} tools")
                cursor = page.next_cursor
                if not cursor:
                    return found

    return await _guarded(work, credentials, timeout_s, "listing the tools")


async def call_tool(
    url: str,
    credentials: Mapping[str, str],
    *,
    tool: str,
    arguments: dict[str, Any],
    expected_digest: str,
    allow_private: Iterable[str],
    timeout_s: float,
) -> tuple[ToolInfo | None, ToolCallOutcome | None]:
    """The tool as the server lists it now (None: no longer listed) and, when its digest equals
    `expected_digest`, the outcome of calling it (None otherwise: not called). Both in one
    connection; raises McpFailure."""

    async def work() -> tuple[ToolInfo | None, ToolCallOutcome | None]:
        async with _connected(url, credentials, allow_private=allow_private, timeout_s=timeout_s) as client:
            live = await _live(client, tool)
            if live is None or live.digest != expected_digest:
                return live, None
            result = await client.call_tool(tool, arguments, read_timeout_seconds=timeout_s)
            return live, outcome_of(result)

    return await _guarded(work, credentials, timeout_s, f"calling {tool}")


async def _live(client: Client, tool: str) -> ToolInfo | None:
    cursor: str | None = None
    for _ in range(MAX_TOOLS):
        page = await client.list_tools(cursor=cursor)
        for listed in page.tools:
            if listed.name == tool:
                return ToolInfo(listed.name, listed.description or "", dict(listed.input_schema))
        cursor = page.next_cursor
        if not cursor:
            break
    return None


def outcome_of(result: CallToolResult) -> ToolCallOutcome:
    text = trim("\n".join(block.text for block in result.content if isinstance(block, TextContent)))
    structured = result.structured_content
    return ToolCallOutcome(
        ok=not result.is_error, text=text, structured=structured, cost_usd=reported_cost(result)
    )


def trim(text: str) -> str:
    return text[:MAX_TEXT_CHARS] + "…[truncated]" if len(text) > MAX_TEXT_CHARS else text


def reported_cost(result: CallToolResult) -> float | None:
    """The cost the tool reported (`cost_of` its `_meta` and structured content)."""
    return cost_of(result.meta, result.structured_content)


def cost_of(meta: object, structured: object) -> float | None:
    """The cost a tool reported: `_meta.cost_usd`, else `structuredContent.cost_usd`; a value
    that is not a finite number from 0 to MAX_COST_USD is ignored. (Both transports.)"""
    for source in (meta, structured):
        value = source.get(COST_KEY) if isinstance(source, Mapping) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(value) and 0 <= value <= MAX_COST_USD:
            return float(value)
    return None
