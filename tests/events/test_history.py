"""Event history from the store, paged backwards, and continued live from where it ends."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import FastAPI
from sqlalchemy import event as sqlalchemy_event

from talkative.events import service as events
from talkative.events.positions import START, Position, at
from talkative.events.schemas import Event, EventType, NewEvent
from tests.factories import Auth, Json
from tests.factories.agents import create_agent
from tests.waiting import eventually


async def _fill(app: FastAPI, agent: str | None, count: int, tenant: str = "tenant-a", **kw: str) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        batch = [
            NewEvent(
                type=kw.get("type", EventType.METRIC_RECORDED),
                tenant_id=tenant,
                agent_id=agent,
                message=f"{agent}-{i}",
            )
            for i in range(count)
        ]
        await events.append(session, batch)


async def _streamed(
    app: FastAPI, live_after: str, enough: Callable[[dict[int, Event]], bool]
) -> dict[int, Event]:
    """What the stream replays after `live_after` (by id), once `enough` says it is all there: on
    PostgreSQL an event is served once no older transaction is open, anywhere on the server."""

    async def replayed() -> dict[int, Event] | None:
        async with app.state.sessionmaker() as session:
            start = await events.resume_from(session, live_after)
            assert start is not None
            got = {
                e.id: e for e in await events.after(session, position=start, tenant_id="tenant-a", limit=50)
            }
        return got if enough(got) else None

    return await eventually(replayed, what=lambda: f"nothing new replayed after {live_after}")


async def _pages(client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: str) -> list[Json]:
    """Every page from the newest backwards, following `next_before`."""
    pages: list[Json] = []
    query = dict(params)
    while True:
        response = await client.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if not pages[-1]["has_more"]:
            return pages
        query["before"] = pages[-1]["next_before"]


async def test_agent_history_pages_backwards_oldest_first(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await create_agent(client, auth(), "alpha")
    await _fill(app, "alpha", 7)
    await _fill(app, "beta", 3)  # another agent's events are not alpha's
    pages = await _pages(client, "/agents/alpha/events", auth("viewer"), tail="3")
    assert [len(p["events"]) for p in pages] == [3, 3, 2]  # 7 metrics and AGENT_CREATED
    # Where the stream goes on (the head; on PostgreSQL it may trail a transaction still open).
    assert at(pages[0]["live_after"]) >= START
    assert all(p["live_after"] is None for p in pages[1:])
    served = [e["message"] for p in reversed(pages) for e in p["events"]]
    assert served[1:] == [f"alpha-{i}" for i in range(7)] and "created" in served[0].lower()
    ids = [e["id"] for p in reversed(pages) for e in p["events"]]
    assert ids == sorted(ids) and len(set(ids)) == 8
    assert pages[-1]["next_before"] is None


async def test_tenant_history_then_the_stream_from_live_after(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await _fill(app, "alpha", 4)
    await _fill(app, "beta", 2, type="CUSTOM")
    await _fill(app, "gamma", 5, tenant="tenant-b")
    newest = (await client.get("/events/history", params={"limit": 4}, headers=auth("viewer"))).json()
    assert [e["message"] for e in newest["events"]] == ["alpha-2", "alpha-3", "beta-0", "beta-1"]
    assert newest["has_more"] and at(newest["live_after"]) >= START
    older = await client.get(
        "/events/history", params={"limit": 4, "before": newest["next_before"]}, headers=auth()
    )
    assert [e["message"] for e in older.json()["events"]] == ["alpha-0", "alpha-1"]
    assert not older.json()["has_more"] and older.json()["next_before"] is None

    # What is committed after the history is read is what the store replays after `live_after`.
    await _fill(app, "alpha", 1)
    shown = {e["id"] for e in newest["events"]}
    after = await _streamed(app, newest["live_after"], lambda got: len(got) - len(shown & set(got)) >= 1)
    assert [e.message for e in after.values() if e.id not in shown] == ["alpha-0"]

    by_type = await client.get("/events/history", params={"type": "CUSTOM"}, headers=auth())
    assert [e["message"] for e in by_type.json()["events"]] == ["beta-0", "beta-1"]
    by_agent = await client.get("/events/history", params={"agent_id": "beta", "limit": 1}, headers=auth())
    assert [e["message"] for e in by_agent.json()["events"]] == ["beta-1"] and by_agent.json()["has_more"]


async def test_history_is_the_callers_tenant_only(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth
) -> None:
    await create_agent(client, auth(), "alpha")
    await _fill(app, "alpha", 3)
    other = await client.get("/events/history", headers=auth("operator", "tenant-b"))
    assert other.status_code == 200 and other.json()["events"] == []
    named = await client.get(
        "/events/history", params={"tenant_id": "tenant-a"}, headers=auth(tenant="tenant-b")
    )
    assert named.status_code == 403
    assert (await client.get("/agents/alpha/events", headers=auth(tenant="tenant-b"))).status_code == 404
    admin = await client.get("/events/history", params={"tenant_id": "tenant-a"}, headers=auth("admin", None))
    assert [e["message"] for e in admin.json()["events"]][-3:] == ["alpha-0", "alpha-1", "alpha-2"]
    everyone = await client.get("/events/history", headers=auth("admin", None))
    assert {e["tenant_id"] for e in everyone.json()["events"]} == {"tenant-a"}
    assert (await client.get("/events/history")).status_code == 401


async def test_bad_history_parameters_are_422(client: httpx.AsyncClient, auth: Auth) -> None:
    await create_agent(client, auth(), "alpha")
    for params in (
        {"before": "x"},
        {"before": "1.2.3"},
        {"before": "9" * 20},
        {"limit": "0"},
        {"limit": "1001"},
        {"type": ""},
        {"agent_id": "a" * 65},
    ):
        response = await client.get("/events/history", params=params, headers=auth())
        assert response.status_code == 422, (params, response.text)
    for params in ({"before": "-1"}, {"tail": "0"}, {"before": "1."}):
        response = await client.get("/agents/alpha/events", params=params, headers=auth())
        assert response.status_code == 422, (params, response.text)


async def _plan(app: FastAPI, **filters: str | None) -> str:
    """The query plan of the history statement for these filters."""
    seen: list[tuple[str, object]] = []

    def record(_c: object, _cur: object, statement: str, parameters: object, *_: object) -> None:
        if "FROM events" in statement and "ORDER BY events.xact DESC, events.id DESC" in statement:
            seen.append((statement, parameters))

    engine = app.state.engine
    sqlalchemy_event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with app.state.sessionmaker() as session:
            await events.history(session, limit=50, before=Position(1, 10**6), **filters)
    finally:
        sqlalchemy_event.remove(engine.sync_engine, "before_cursor_execute", record)
    statement, parameters = seen[-1]
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)).all()
            return "\n".join(str(row[-1]) for row in rows)
        # A tiny table is cheaper to sort: ask whether an index can serve the order at all.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            await conn.exec_driver_sql(f"SET LOCAL {setting} = off")
        rows = (await conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)).all()
        await conn.rollback()
        return "\n".join(str(row[0]) for row in rows)


async def test_history_walks_an_index_backwards_without_sorting(app: FastAPI) -> None:
    await _fill(app, "alpha", 3)
    for filters, index in (
        ({"tenant_id": "tenant-a"}, "ix_events_tenant_position"),
        ({"tenant_id": "tenant-a", "agent_id": "alpha"}, "ix_events_tenant_agent_position"),
        ({"tenant_id": None}, "ix_events_position"),
    ):
        plan = await _plan(app, **filters)
        assert index in plan and "TEMP B-TREE" not in plan and "Sort" not in plan, (filters, plan)


async def test_nothing_committed_late_is_missed(app: FastAPI, client: httpx.AsyncClient, auth: Auth) -> None:
    """On PostgreSQL a transaction that began first may commit after a later one: the newest page
    shows what is committed, and the stream from `live_after` brings the late one (and may repeat
    the page's newest, which a client drops by id). SQLite commits one writer at a time."""
    maker = app.state.sessionmaker
    postgresql = app.state.engine.dialect.name == "postgresql"
    async with maker() as slow:
        await slow.begin()
        if postgresql:  # holds a transaction id older than the next writer's, uncommitted
            await events.append(slow, [NewEvent(type="CUSTOM", tenant_id="tenant-a", message="late")])
        await _fill(app, "alpha", 2)
        page = (await client.get("/events/history", headers=auth())).json()
        assert [e["message"] for e in page["events"]] == ["alpha-0", "alpha-1"]  # read your writes
        if not postgresql:
            await events.append(slow, [NewEvent(type="CUSTOM", tenant_id="tenant-a", message="late")])
        await slow.commit()
    shown = {e["id"] for e in page["events"]}
    streamed = await _streamed(app, page["live_after"], lambda got: bool(set(got) - shown))
    assert [e.message for e in streamed.values() if e.id not in shown] == ["late"]
