"""Fixtures of the input tests: an agent with a run to write to."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.factories.agents import running_agent
from tests.factories.runs import waiting_run

Auth = Callable[..., dict[str, str]]


@pytest.fixture
async def clerk(client: httpx.AsyncClient, auth: Auth) -> str:
    """A running agent `clerk` with one run waiting for approval (external events need a run)."""
    await running_agent(client, auth(), "clerk")
    return await waiting_run(client, auth(), "clerk")
