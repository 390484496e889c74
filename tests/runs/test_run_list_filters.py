"""The runs list: filters by kind and creation time, and keyset pages going backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from talkative.runs import service as runs
from tests.factories import Auth

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _runs(app: FastAPI, specs: list[tuple[str, str, int]]) -> list[str]:
    """Ended runs of (tenant, kind) created `minutes` after T0; their ids in the order given."""
    ids = []
    async with app.state.sessionmaker() as session, session.begin():
        for tenant, kind, minutes in specs:
            run = await runs.open_run(session, tenant_id=tenant, agent_id="worker", kind=kind, text="")
            run.status, run.subagent_state = "completed", "idle"
            run.created_at = run.updated_at = run.finished_at = T0 + timedelta(minutes=minutes)
            ids.append(run.id)
    return ids


async def _list(client: httpx.AsyncClient, headers: dict[str, str], **params: str | int) -> dict[str, Any]:
    response = await client.get("/orchestrator/runs", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_kind_and_time_filters(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    ids = await _runs(
        app,
        [
            ("tenant-a", "message", 0),
            ("tenant-a", "heartbeat", 10),
            ("tenant-a", "task", 20),
            ("tenant-a", "delegated", 30),
            ("tenant-b", "message", 5),
        ],
    )
    viewer = auth("viewer")
    beats = await _list(client, viewer, kind="heartbeat")
    assert [r["run_id"] for r in beats["runs"]] == [ids[1]] and beats["runs"][0]["kind"] == "heartbeat"
    window = await _list(
        client,
        viewer,
        since=(T0 + timedelta(minutes=10)).isoformat(),
        until=(T0 + timedelta(minutes=30)).isoformat(),
    )
    assert [r["run_id"] for r in window["runs"]] == [ids[1], ids[2]]  # since inclusive, until not
    messages = await _list(client, viewer, kind="message")
    assert [r["run_id"] for r in messages["runs"]] == [ids[0]]  # not tenant-b's
    admin = await _list(client, auth("admin", None), kind="message")
    assert [r["run_id"] for r in admin["runs"]] == [ids[0], ids[4]]
    assert (await _list(client, auth("viewer", "tenant-b")))["runs"][0]["run_id"] == ids[4]


async def test_pages_backwards_newest_last(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    # Two runs share a creation time: the id breaks the tie, so neither is lost between pages.
    minutes = (0, 1, 2, 2, 3, 4, 5)
    ids = await _runs(app, [("tenant-a", "task", m) for m in minutes])
    expected = [i for _, i in sorted(zip(minutes, ids, strict=True))]
    pages = [await _list(client, auth(), limit=3)]
    while pages[-1]["has_more"]:
        pages.append(await _list(client, auth(), limit=3, before=pages[-1]["next_before"]))
    assert [len(p["runs"]) for p in pages] == [3, 3, 1]
    assert [r["run_id"] for p in reversed(pages) for r in p["runs"]] == expected
    assert pages[-1]["next_before"] is None
    filtered = await _list(client, auth(), kind="task", limit=2, before=pages[0]["next_before"])
    assert [r["run_id"] for r in filtered["runs"]] == expected[2:4]
    # Another tenant's cursor names nothing of theirs: the page is still only the caller's runs.
    stranger = await _list(client, auth(tenant="tenant-b"), before=pages[0]["next_before"])
    assert stranger["runs"] == [] and not stranger["has_more"]


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient, auth: Auth) -> None:
    for params in (
        {"kind": "nope"},
        {"status": "done"},
        {"since": "yesterday"},
        {"since": "2026-12-01T12:00:00"},  # no zone: ambiguous
        {"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"},
        {"since": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
        {"until": "9999-12-31T23:00:00-05:00"},  # after year 9999 in UTC
        {"before": "not a cursor"},
        {"before": "MHwwMDAxLTAxLTAxVDAwOjAwOjAwKzAxOjAwfGlk"},  # a time before year 1 in UTC
        {"before": "bm9wZQ"},  # base64 of "nope"
        {"before": "x" * 201},
        {"limit": 0},
        {"agent_id": ""},
    ):
        response = await client.get("/orchestrator/runs", params=params, headers=auth())
        assert response.status_code == 422, (params, response.text)
        assert response.json()["code"] in ("VALIDATION_ERROR", "INVALID_CURSOR"), response.text
