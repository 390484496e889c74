"""The app's API routes as served: FastAPI keeps included routers as `_IncludedRouter` entries in
`app.routes`, so a plain walk over it sees none of them."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every APIRoute with its full path, methods and dependencies (router-level ones included)."""
    routes = [ctx for ctx in iter_route_contexts(app.routes) if isinstance(ctx.original_route, APIRoute)]
    assert len(routes) > 50, "the route walk found too few routes to be trusted"
    return routes
