"""A stored row that cannot be rendered (written before the input gate, or by hand) is skipped and
logged: the agent's events, the run's detail, the action list and live streams keep working."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from talkative.channels.models import InternalAction
from talkative.db import utcnow
from talkative.events import service
from talkative.events.models import EventRow
from talkative.events.positions import START
from talkative.events.router import stream_events
from talkative.events.schemas import NewEvent
from talkative.runs.models import RunCommand
from tests.waiting import within

Auth = Callable[..., dict[str, str]]


def _nested(levels: int) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for _ in range(levels - 1):
        payload = {"a": payload}
    return payload


DEEP = _nested(300)


async def _write_bad_rows(app: FastAPI, run_id: str) -> None:
    """Straight into the tables, as the API used to store them."""
    now = utcnow()
    async with app.state.engine.begin() as conn:
        await conn.execute(
            insert(EventRow).values(
                tenant_id="tenant-a",
                agent_id="clerk",
                run_id=run_id,
                type="EXTERNAL_METRIC_RECORDED",
                message="deep",
                payload=DEEP,
                created_at=now,
            )
        )
        await conn.execute(
            insert(RunCommand).values(
                id=secrets.token_hex(8),
                tenant_id="tenant-a",
                agent_id="clerk",
                run_id=run_id,
                type="start_task",
                payload=DEEP,
                actor="tester",
                created_at=now,
            )
        )
        await conn.execute(
            insert(InternalAction).values(
                id=secrets.token_hex(8),
                tenant_id="tenant-a",
                agent_id="clerk",
                operator_id="tester",
                action="deep",
                payload=DEEP,
                created_at=now,
            )
        )


async def test_reads_skip_a_row_that_cannot_be_rendered(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, clerk: str, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = clerk
    await _write_bad_rows(app, run_id)
    good = {"agent_id": "clerk", "action": "after", "payload": {"ok": True}}
    assert (await client.post("/channels/internal/actions", json=good, headers=auth())).status_code == 201

    events = await client.get("/agents/clerk/events", headers=auth())
    assert events.status_code == 200, events.text
    types = [e["type"] for e in events.json()["events"]]
    assert "MESSAGE_RECEIVED" in types and "EXTERNAL_METRIC_RECORDED" not in types

    run = await client.get(f"/orchestrator/runs/{run_id}", headers=auth())
    assert run.status_code == 200, run.text
    assert run.json()["status"] == "waiting_approval"
    assert not [s for s in run.json()["steps"] if s["name"] in ("EXTERNAL_METRIC_RECORDED", "start_task")]

    actions = await client.get("/channels/internal/actions", headers=auth())
    assert actions.status_code == 200, actions.text
    assert [a["action"] for a in actions.json()["actions"]] == ["after"]
    assert "cannot be rendered" in caplog.text


@pytest.mark.parametrize("tenant", ["tenant-a", None], ids=["tenant", "platform admin"])
async def test_a_stream_goes_on_past_a_row_that_cannot_be_rendered(
    app: FastAPI, clerk: str, tenant: str | None
) -> None:
    """Both in the replay (a row in the store) and live (an event published after commit)."""
    await _write_bad_rows(app, clerk)
    stream = stream_events(
        subscription=app.state.bus.subscribe(tenant),
        sessionmaker=app.state.sessionmaker,
        tenant_id=tenant,
        after=START,
        keepalive_s=0.05,
    )
    seen: list[str] = []

    async def collect() -> None:
        async for chunk in stream:
            for line in chunk.decode().splitlines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:])["type"])
            if "LIVE_AFTER" in seen:
                return

    reader = asyncio.create_task(collect())
    async with app.state.sessionmaker() as session, session.begin():
        await service.append(
            session,
            [
                NewEvent(type="LIVE_DEEP", tenant_id="tenant-a", agent_id="clerk", payload=DEEP),
                NewEvent(type="LIVE_AFTER", tenant_id="tenant-a", agent_id="clerk"),
            ],
        )
    await within(reader, what="the stream never delivered LIVE_AFTER")
    await stream.aclose()
    assert "MESSAGE_RECEIVED" in seen and seen[-1] == "LIVE_AFTER"
    assert "EXTERNAL_METRIC_RECORDED" not in seen and "LIVE_DEEP" not in seen
