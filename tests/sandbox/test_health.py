"""`/health` says which sandbox mode is in force and whether the sandbox is available here."""

from __future__ import annotations

import httpx

from talkative.tools import isolation


async def test_health_reports_the_sandbox_in_force(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json()["sandbox"] == {
        "mode": "required", "available": True, "layers": list(isolation.LAYERS), "missing": [],
    }  # fmt: skip
