"""The two public endpoints: health and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from talkative import __version__
from talkative.observability.health import DatabaseCheck
from talkative.observability.metrics import REGISTRY
from talkative.observability.schemas import Health, SandboxHealth
from talkative.settings import Settings
from talkative.tools import isolation

router = APIRouter(tags=["observability"])
SERVICE_NAME = "talkative"


@router.get(
    "/health",
    operation_id="getHealth",
    responses={503: {"model": Health, "description": "The database cannot be reached"}},
)
async def health(request: Request) -> Health:
    state = request.app.state
    body = Health(
        ok=True,
        service=SERVICE_NAME,
        version=__version__,
        revision=state.revision,
        database="ok",
        schema_revision=state.schema_revision,
        sandbox=await _sandbox(state.settings),
    )
    check: DatabaseCheck = state.database_check
    problem = await check.problem(state.engine, timeout_s=state.settings.db_timeout_s)
    if problem is not None:
        body.ok, body.database = False, problem
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return body


async def _sandbox(settings: Settings) -> SandboxHealth:
    """Probed once per process (at startup, see main.py), then read from the cache without the
    thread hop a first probe needs (a third of a health check's CPU, mostly the thread pool's)."""
    policy = isolation.policy_for(settings)
    found = isolation.known_status(policy)
    if found is None:
        found = await asyncio.to_thread(isolation.status, policy)
    return SandboxHealth(
        mode=policy.mode.value,
        available=not found.missing,
        layers=list(found.layers),
        missing=sorted(found.missing),
    )


@router.get(
    "/metrics",
    operation_id="getMetrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
