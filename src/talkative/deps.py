"""The request dependencies every domain's routes share, defined once."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from talkative.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain-def dependency in a worker thread, a hop on every request.
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many, newest last")]
