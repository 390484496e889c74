"""Domain errors and the one place that renders every error as `{"error", "code"}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger("talkative.errors")


class TalkativeError(Exception):
    """A failure the caller can act on; services raise these, never HTTPException."""

    status: int = 400
    code: str = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class NotFound(TalkativeError):
    status, code = 404, "NOT_FOUND"


class Conflict(TalkativeError):
    status, code = 409, "CONFLICT"


class Forbidden(TalkativeError):
    status, code = 403, "FORBIDDEN"


class Unauthorized(TalkativeError):
    status, code = 401, "UNAUTHORIZED"


class InvalidInput(TalkativeError):
    status, code = 422, "VALIDATION_ERROR"


class ErrorBody(BaseModel):
    """The shape of every error response."""

    error: str
    code: str
    details: list[dict[str, Any]] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Bad request"),
        (401, "Missing or invalid token"),
        (403, "Role or tenant not allowed"),
        (404, "Not found"),
        (409, "State conflict"),
        (413, "Request body over the size limit"),
        (422, "Invalid input"),
    )
}

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"error": message, "code": code}
    body.update({k: v for k, v in extra.items() if v is not None})
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body, status_code=status, headers=all_headers or None)


def _describe(errors: list[dict[str, Any]]) -> str:
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
    return f"{where}: {first.get('msg', 'invalid input')}"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TalkativeError)
    async def _domain(_: Request, exc: TalkativeError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return error_response(422, _describe(details), "VALIDATION_ERROR", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return error_response(exc.status_code, str(exc.detail), code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback so nothing is hidden; the caller gets an id to quote.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            500,
            "internal error; quote the request id when reporting it",
            "INTERNAL",
            request_id=getattr(request.state, "request_id", None),
        )


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method the routes of this path serve (Starlette names only the first route's). A
    literal path (`/agents/message`) is its own path item: a template that also matches it
    (`/agents/{agent_id}`) does not add its methods."""
    literal: set[str] = set()
    templated: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    # Route contexts, not app.router.routes: an included router's routes sit behind one entry.
    for route in iter_route_contexts(app.router.routes):
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            (templated if "{" in (route.path or "") else literal).update(route.methods or ())
    return sorted(literal or templated)
