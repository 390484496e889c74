"""Fixtures of the input tests: an agent with a run to write to."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

Auth = Callable[..., dict[str, str]]
SENSITIVE = "transfer funds to supplier"


@pytest.fixture
async def clerk(client: httpx.AsyncClient, auth: Auth) -> str:
    """A running agent `clerk` with one run waiting for approval (external events need a run)."""
    created = await client.post("/agents", json={"id": "clerk", "name": "Clerk"}, headers=auth())
    assert created.status_code == 201, created.text
    assert (await client.post("/agents/clerk/start", headers=auth())).status_code == 200
    reply = await client.post("/agents/clerk/message", json={"message": SENSITIVE}, headers=auth())
    assert reply.json()["run_status"] == "waiting_approval", reply.text
    run_id: str = reply.json()["run_id"]
    return run_id
