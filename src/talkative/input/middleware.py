"""The one gate every request passes before a route sees it: bounded bodies, strict JSON, clean URLs.

A pure ASGI middleware. The body is counted as it streams in (chunked bodies carry no
Content-Length to trust) and refused with 413 the moment it passes the limit; a JSON body is then
parsed strictly (see `strict`) and handed to the app unchanged, so routes keep FastAPI's own
parsing and schemas. Reading and bodyless requests (GET, HEAD, OPTIONS) pass straight through:
their bodies are never read, and a stream's own receive stays the server's.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talkative.errors import error_response
from talkative.input import strict

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


def _body_headers(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length (None when absent or unreadable) and whether it is JSON as
    FastAPI decides it (no content type, `application/json` or `application/*+json`)."""
    length: int | None = None
    is_json = True
    for key, value in scope["headers"]:
        if key == b"content-length":
            length = int(value) if value.isdigit() else None
        elif key == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            is_json = media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return length, is_json


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A NUL reaches no route: PostgreSQL cannot compare or store it (a 500 otherwise). Lone
        # surrogates cannot occur here: servers decode percent-escapes with replacement.
        if "\x00" in scope["path"]:
            await _refuse(scope, receive, send, ["path"], "the path contains a NUL character")
            return
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            await _refuse(scope, receive, send, ["query"], "the query string contains a NUL character")
            return
        if scope["method"] in _BODYLESS:
            await self.app(scope, receive, send)
            return
        length, is_json = _body_headers(scope)
        if length is not None and length > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left before sending it all
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if is_json and body:
            try:
                strict.loads(body)
            except strict.UnsafeJson as exc:
                await _refuse(scope, receive, send, ["body", *exc.loc], exc.message)
                return
            except json.JSONDecodeError:
                pass  # bad syntax: FastAPI answers it in its usual shape
        await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        message = f"the request body is larger than the limit of {limit} bytes"
        response = error_response(413, message, "PAYLOAD_TOO_LARGE", max_body_bytes=limit)
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, as one message; then the server's own receive (for disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(scope: Scope, receive: Receive, send: Send, loc: list[str | int], message: str) -> None:
    """A 422 in the shape of FastAPI's validation errors, rendered as every error is. A key in
    `loc` may be the offending text itself: it is shown escaped, as UTF-8 cannot carry it."""
    loc = [part if isinstance(part, int) or strict.is_clean_text(part) else _escaped(part) for part in loc]
    where = ".".join(str(part) for part in loc[1:]) or loc[0]
    details = [{"loc": loc, "msg": message, "type": "value_error"}]
    response = error_response(422, f"{where}: {message}", "VALIDATION_ERROR", details=details)
    await response(scope, receive, send)


def _escaped(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")
