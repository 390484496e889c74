"""Serves the single-page web app and its client-side routes from one process and port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = FilePath(__file__).resolve().parent.parent / "static"
FALLBACK_PAGE = FilePath(__file__).resolve().parent / "fallback.html"
ASSETS_DIR = STATIC_DIR / "assets"


class _BuiltAssets(StaticFiles):
    """The bundle's hashed files; a plain 404 (not a 500) while no build exists yet.

    The folder is looked up on every request rather than checked once at startup, so a
    `npm run build` made while the server runs is served without a restart.
    """

    async def check_config(self) -> None:
        return None


# Documented in the OpenAPI document: GET /workflow is the Workflow Editor page while
# POST /workflow is the API, so the page must be a declared operation too.
router = APIRouter(tags=["ui"])
HTML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The web app (public, carries no data)"}
}


def _index() -> FilePath:
    built = STATIC_DIR / "index.html"
    return built if built.is_file() else FALLBACK_PAGE


async def index() -> FileResponse:
    return FileResponse(_index(), media_type="text/html", headers={"Cache-Control": "no-cache"})


async def agent_page(agent_id: Annotated[str, Path(min_length=1, max_length=64)]) -> FileResponse:
    """The page of one agent; the app itself loads the agent (with the token) once it runs."""
    del agent_id
    return await index()


async def run_page(run_id: Annotated[str, Path(min_length=1, max_length=64)]) -> FileResponse:
    """The page of one run; the app loads the run (with the token) once it runs."""
    del run_id
    return await index()


PAGES: dict[str, tuple[str, Callable[..., Awaitable[FileResponse]]]] = {
    "/": ("uiMissionControl", index),
    "/workflow": ("uiWorkflowEditor", index),
    "/router-admin": ("uiRouterAdmin", index),
    "/fleet": ("uiFleet", index),
    "/agent/{agent_id}": ("uiAgent", agent_page),
    "/runs": ("uiRuns", index),
    "/runs/{run_id}": ("uiRun", run_page),
}
# `/agent/{id}` (singular): `/agents/{id}` is the API's, and a reload must get the page.
CLIENT_ROUTES = tuple(PAGES)
for path, (operation_id, page) in PAGES.items():
    router.add_api_route(
        path, page, methods=["GET"], response_class=HTMLResponse, operation_id=operation_id, responses=HTML
    )

# Built JS/CSS (Vite's `assets/` folder); not an API operation, so not in the OpenAPI document.
router.mount("/assets", _BuiltAssets(directory=ASSETS_DIR, check_dir=False), name="assets")
