"""The model providers as a request dependency.

Read from the runtime without importing it: `runtime.py` builds its providers from this package, so
importing it (or `deps.py`, which does) back here would make an import cycle.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from talkative.llm_router.providers.base import Provider


async def get_providers(request: Request) -> dict[str, Provider]:
    # async: FastAPI runs a plain-def dependency in a worker thread, a hop on every request.
    providers: dict[str, Provider] = request.app.state.runtime.providers
    return providers


Providers = Annotated[dict[str, Provider], Depends(get_providers)]
