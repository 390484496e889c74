"""Leader election on PostgreSQL: one leader among processes with connections of their own, and
another takes over when the leader's connection is gone; on SQLite the one process leads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from talkative.cluster import leadership
from talkative.cluster.leadership import AdvisoryLockElector, SoleLeader
from talkative.observability.metrics import REGISTRY
from tests.conftest import fresh_pg_database
from tests.waiting import eventually, within


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with fresh_pg_database("talkative_leader") as url:
        yield url


def _connect_args(url: str) -> dict[str, Any]:
    engine = create_async_engine(url)
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    return dict(kwargs)


@pytest.fixture
async def electors(pg_url: str) -> AsyncIterator[list[AdvisoryLockElector]]:
    made = [AdvisoryLockElector(_connect_args(pg_url), check_s=0.2, timeout_s=5) for _ in range(3)]
    yield made
    for elector in made:
        await elector.resign()


async def _terminate_holder(pg_url: str) -> None:
    """The leader's connection breaks (as when its process dies or the network drops it)."""
    conn = await asyncpg.connect(**_connect_args(pg_url))
    try:
        terminated = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
            "WHERE locktype = 'advisory' AND granted AND objid = ($1::bigint & 4294967295)",
            leadership.LEADER_LOCK,
        )
        assert terminated == 1
    finally:
        await conn.close()


def _leader_gauge() -> float | None:
    return REGISTRY.get_sample_value("talkative_leader")


async def test_exactly_one_of_several_leads(electors: list[AdvisoryLockElector]) -> None:
    results = await asyncio.gather(*(elector.try_lead() for elector in electors))
    assert sorted(results) == [False, False, True]
    # Asking again changes nothing while the leader's connection holds the lock.
    followers = [e for e, leads in zip(electors, results, strict=True) if not leads]
    assert [await e.try_lead() for e in followers] == [False, False]


async def test_a_resigned_leader_lets_another_lead(electors: list[AdvisoryLockElector]) -> None:
    first, second, _ = electors
    assert await first.try_lead() and not await second.try_lead()
    await first.resign()
    assert await second.try_lead()


async def test_a_leader_whose_connection_breaks_knows_it_at_once_and_another_takes_over(
    pg_url: str, electors: list[AdvisoryLockElector]
) -> None:
    leader, follower, _ = electors
    assert await leader.try_lead() and not await follower.try_lead()
    lost = asyncio.create_task(leader.lost())
    await _terminate_holder(pg_url)
    await within(lost, what="the leader never noticed that its lock connection was gone")
    await eventually(follower.try_lead, what="nobody took the lead over")


async def test_while_leading_the_duties_run_and_stop_when_the_lead_is_lost(
    pg_url: str, electors: list[AdvisoryLockElector]
) -> None:
    leader, follower, _ = electors
    stopping = asyncio.Event()
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def duty() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    task = asyncio.create_task(leadership.lead(leader, {"duty": duty}, stopping=stopping, retry_s=60))
    try:
        await within(started.wait(), what="the leader's duty never started")
        assert _leader_gauge() == 1
        assert not await follower.try_lead()
        await _terminate_holder(pg_url)
        await within(cancelled.wait(), what="the duty kept running after the lead was lost")
        await eventually(lambda: _leader_gauge() == 0, what="the gauge still says it leads")
        await eventually(follower.try_lead, what="nobody took the lead over")
    finally:
        stopping.set()
        await within(task, what="lead() did not return once stopping")


async def test_duties_finish_by_themselves_when_the_process_stops(
    electors: list[AdvisoryLockElector],
) -> None:
    stopping = asyncio.Event()
    finished: list[str] = []

    async def duty() -> None:
        await stopping.wait()
        finished.append("duty")

    task = asyncio.create_task(leadership.lead(electors[0], {"duty": duty}, stopping=stopping, retry_s=60))
    await eventually(lambda: _leader_gauge() == 1, what="the only candidate never led")
    stopping.set()
    await within(task, what="lead() did not return once stopping")
    assert finished == ["duty"] and _leader_gauge() == 0
    assert await electors[1].try_lead()  # and the lock is free again


async def test_on_sqlite_the_one_process_leads() -> None:
    stopping = asyncio.Event()
    ran = asyncio.Event()

    async def duty() -> None:
        ran.set()
        await stopping.wait()

    task = asyncio.create_task(leadership.lead(SoleLeader(), {"duty": duty}, stopping=stopping, retry_s=60))
    await within(ran.wait(), what="the sole process did not lead")
    stopping.set()
    await within(task, what="lead() did not return once stopping")
