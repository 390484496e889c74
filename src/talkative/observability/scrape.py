"""Gauges read when `/metrics` is scraped: the health check's result and what other domains export.

A Prometheus server scrapes each process every 15 s or so; reading a few numbers from the database
then is cheaper and fresher than a loop keeping them up to date. main.py installs the hooks (the
observability package imports no domain); a hook that fails or is slow is logged and skipped, so
the scrape itself never fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from starlette.datastructures import State

from talkative.observability.metrics import HEALTH_OK

log = logging.getLogger("talkative.metrics")
ScrapeHook = Callable[[State], Awaitable[None]]
HOOK_TIMEOUT_S = 2.0


async def health_gauge(state: State) -> None:
    problem = await state.database_check.problem(state.engine, timeout_s=state.settings.db_timeout_s)
    HEALTH_OK.set(1 if problem is None else 0)


async def refresh(state: State) -> None:
    if getattr(state, "engine", None) is None:  # not started (or stopping): nothing to read yet
        return
    hooks: Sequence[ScrapeHook] = getattr(state, "scrape_hooks", ())
    for hook in hooks:
        try:
            await asyncio.wait_for(hook(state), timeout=HOOK_TIMEOUT_S)
        except Exception as exc:
            log.warning("metrics: %s failed: %s", getattr(hook, "__name__", hook), type(exc).__name__)
