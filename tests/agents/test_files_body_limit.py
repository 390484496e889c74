"""The largest upload the listing announces is the request body limit when that is the lower one."""

from __future__ import annotations

from collections.abc import Callable

import httpx

Auth = Callable[..., dict[str, str]]
SETTINGS = {"TALKATIVE_MAX_BODY_BYTES": 2048, "TALKATIVE_TOOL_WRITE_QUOTA_BYTES": 8192}


async def test_the_body_limit_bounds_uploads(client: httpx.AsyncClient, auth: Auth) -> None:
    created = await client.post("/agents", json={"id": "small", "name": "Small"}, headers=auth())
    assert created.status_code == 201, created.text
    quota = (await client.get("/agents/small/files", headers=auth("viewer"))).json()["quota"]
    assert quota["maxUploadBytes"] == 2048
    headers = {**auth(), "content-type": "application/octet-stream"}
    fits = await client.put("/agents/small/files/inputs/a.bin", content=b"x" * 2048, headers=headers)
    assert fits.status_code == 201, fits.text
    over = await client.put("/agents/small/files/inputs/b.bin", content=b"x" * 2049, headers=headers)
    assert over.status_code == 413 and over.json()["code"] == "PAYLOAD_TOO_LARGE"
