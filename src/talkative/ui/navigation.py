"""Web app pages whose address is also an API path: `/approvals` is the approvals inbox in a
browser and the approvals list (`GET /approvals`) for API clients; `/approvals/<id>` is one
approval's page (the emailed link opens it) and `GET /approvals/{id}` for API clients.

A browser opening or reloading such a page sends `Sec-Fetch-Dest: document` and, being a
navigation, no bearer token: that request gets the app (which then calls the API with its token)
instead of a 401. Every other request, an API client's or the app's own `fetch` (`Sec-Fetch-Dest:
empty`, with a token), reaches the API unchanged.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from talkative.ui.router import index

# Pages of the web app that share their address with a GET of the API.
SHARED_PAGES = frozenset({"/approvals"})
SHARED_PATTERNS = (re.compile(r"/approvals/[A-Za-z0-9_.-]{1,64}"),)


def is_shared_page(path: str) -> bool:
    return path in SHARED_PAGES or any(p.fullmatch(path) for p in SHARED_PATTERNS)


def is_page_navigation(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET" or not is_shared_page(scope["path"]):
        return False
    headers = dict(scope["headers"])
    return headers.get(b"sec-fetch-dest") == b"document" and b"authorization" not in headers


class PageNavigation:
    """Serves the web app to a browser navigating to one of the `SHARED_PAGES`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_page_navigation(scope):
            await self.app(scope, receive, send)
            return
        response = await index()
        await response(scope, receive, send)
