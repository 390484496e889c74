"""No route or dependency runs in Starlette's thread pool: a plain `def` there costs a thread hop
on every request (and a thread per concurrent request), so every one of them is async."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import RouteContext

from tests.routes import api_routes


def _runs_on_the_loop(call: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    if inspect.isfunction(call) or inspect.ismethod(call):
        return False
    # A dependency instance (fastapi.security's HTTPBearer) is called through its __call__.
    dunder = type(call).__call__
    return inspect.iscoroutinefunction(dunder) or inspect.isasyncgenfunction(dunder)


def _threadpool_calls(route: RouteContext) -> list[str]:
    endpoint = route.endpoint
    assert endpoint is not None, route.path  # an APIRoute always has one
    found = [] if _runs_on_the_loop(endpoint) else [endpoint.__qualname__]
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is not None and not _runs_on_the_loop(dep.call):
            found.append(getattr(dep.call, "__qualname__", repr(dep.call)))
        stack.extend(dep.dependencies)
    return found


async def test_every_route_and_dependency_is_async(app: FastAPI) -> None:
    routes = api_routes(app)
    offenders = {
        f"{sorted(r.methods or ())} {r.path}": calls for r in routes if (calls := _threadpool_calls(r))
    }
    assert offenders == {}
