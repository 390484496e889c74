"""One pure-ASGI middleware: request id, trace span, access log and HTTP metrics by route template.

The span is ours rather than OpenTelemetry's ASGI instrumentation's: that one adds a span per
receive and send (an SSE stream sends thousands) and knows the route template only through
FastAPI's; here it is the same template the metrics use."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talkative.observability import tracing
from talkative.observability.logging import request_id_var
from talkative.observability.metrics import (
    AUTH_FAILURES,
    HTTP_DURATION_MS,
    HTTP_FAILURES,
    HTTP_REQUESTS,
    HTTP_SERVER_ERRORS,
)

log = logging.getLogger("talkative.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "<unmatched>"
# Generated ids: unique, not secret, so a random prefix per process and a counter (a uuid4 per
# request read the kernel's random source every time).
_PROCESS_PREFIX = secrets.token_hex(6) + "-"
_SEQUENCE = itertools.count(1)


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
    return f"{_PROCESS_PREFIX}{next(_SEQUENCE):x}"


def _endpoint(scope: Scope) -> str:
    """The route template (`/agents/{agent_id}`), never the raw path, to bound label cardinality."""
    route = scope.get("route")
    path: object = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", ()):
        match, _ = candidate.matches(scope)
        if match is Match.FULL:
            return str(getattr(candidate, "path", UNMATCHED))
    return UNMATCHED


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        with tracing.span(
            scope["method"],
            kind=tracing.SpanKind.SERVER,
            parent=tracing.context_from_headers(scope.get("headers", [])),
            attributes={"http.request.method": scope["method"], "url.path": scope["path"]},
        ) as span:
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._observe(scope, span, status, started, request_id)
                request_id_var.reset(token)

    @staticmethod
    def _observe(scope: Scope, span: tracing.Span, status: int, started: float, request_id: str) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        method, endpoint = scope["method"], _endpoint(scope)
        span.update_name(f"{method} {endpoint}")
        span.set_attribute("http.route", endpoint)
        span.set_attribute("http.response.status_code", status)
        span.set_attribute("talkative.request_id", request_id)
        if status >= 500:
            tracing.failed(span, str(status))
        HTTP_REQUESTS.labels(method, endpoint).inc()
        HTTP_DURATION_MS.labels(method, endpoint).observe(elapsed_ms)
        if status >= 400:
            HTTP_FAILURES.labels(method, endpoint).inc()
        if status >= 500:
            HTTP_SERVER_ERRORS.labels(method, endpoint).inc()
        elif status in (401, 403):  # every 401 and 403 of the API is auth's refusal (errors.py)
            AUTH_FAILURES.labels(str(status)).inc()
        log.info(
            "%s %s %s %.1fms",
            method,
            scope["path"],
            status,
            elapsed_ms,
            extra={"status": status, "duration_ms": round(elapsed_ms, 2), "endpoint": endpoint},
        )
