"""The two public endpoints: health and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from talkative import __version__
from talkative.db import ping
from talkative.observability.metrics import REGISTRY
from talkative.observability.schemas import Health, SandboxHealth
from talkative.settings import Settings
from talkative.tools import isolation

router = APIRouter(tags=["observability"])
log = logging.getLogger("talkative.health")
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
    try:
        await asyncio.wait_for(ping(state.engine), timeout=state.settings.db_timeout_s)
    except Exception as exc:  # any failure to reach the database is "unhealthy", not a 500
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        body.ok, body.database = False, f"unreachable: {type(exc).__name__}"
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return body


async def _sandbox(settings: Settings) -> SandboxHealth:
    """Probed once per process (at startup, see main.py), then read from the cache."""
    policy = isolation.policy_for(settings)
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
