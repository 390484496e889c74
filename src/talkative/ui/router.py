"""Serves the single-page web app and its client-side routes from one process and port."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
FALLBACK_PAGE = Path(__file__).resolve().parent / "fallback.html"
CLIENT_ROUTES = ("/", "/workflow", "/router-admin")

router = APIRouter(include_in_schema=False)


def _index() -> Path:
    built = STATIC_DIR / "index.html"
    return built if built.is_file() else FALLBACK_PAGE


async def index() -> FileResponse:
    return FileResponse(_index(), media_type="text/html", headers={"Cache-Control": "no-cache"})


for path in CLIENT_ROUTES:
    router.add_api_route(path, index, methods=["GET"], response_class=HTMLResponse)
