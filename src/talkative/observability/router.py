"""The two public endpoints: health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from talkative.observability import health as health_report
from talkative.observability import scrape
from talkative.observability.metrics import REGISTRY
from talkative.observability.schemas import Health

router = APIRouter(tags=["observability"])


@router.get(
    health_report.PATH,
    operation_id="getHealth",
    responses={503: {"model": Health, "description": "The database cannot be reached"}},
)
async def health(request: Request) -> Health:
    # Served by `health.HealthFastPath` before routing; the same report from here otherwise.
    body = await health_report.report(request.app.state)
    if not body.ok:
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return body


@router.get(
    "/metrics",
    operation_id="getMetrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    await scrape.refresh(request.app.state)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
