"""Stream positions: committed events are served in an order that never skips one, on PostgreSQL
even when transactions commit in another order than they stored their events."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.events import positions
from talkative.events import service as events
from talkative.events.positions import MAX_PART, START, Position
from talkative.events.schemas import Event, EventType, NewEvent
from tests.events.served import caught_up

postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
Maker = async_sessionmaker[AsyncSession]


@given(st.integers(0, MAX_PART), st.integers(0, MAX_PART))
def test_a_position_reads_back_as_written(xact: int, event_id: int) -> None:
    position = Position(xact, event_id)
    assert positions.parse(str(position)) == (position, xact != 0)


@pytest.mark.parametrize("text", ["", "x", "1.", ".1", "1.2.3", "-1", "1 2", str(2**63), f"1.{2**63}"])
def test_what_is_not_a_position_is_refused(text: str) -> None:
    assert positions.parse(text) is None


def _new(message: str) -> NewEvent:
    return NewEvent(type=EventType.METRIC_RECORDED, tenant_id="tenant-a", agent_id="a", message=message)


async def _committed(maker: Maker, message: str) -> Event:
    async with maker() as session, session.begin():
        [stored] = await events.append(session, [_new(message)])
    return stored


async def _served(maker: Maker, after: Position) -> list[str]:
    async with maker() as session:
        return [e.message for e in await events.after(session, position=after, tenant_id=None, limit=100)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_the_position_is_the_id(app: FastAPI) -> None:
    stored = await _committed(app.state.sessionmaker, "one")
    assert stored.position == str(stored.id)


@postgresql_only
async def test_an_event_committed_first_waits_for_an_earlier_one_still_in_flight(app: FastAPI) -> None:
    maker = app.state.sessionmaker
    async with maker() as session:
        start = await events.head(session)
    async with maker() as early:
        await early.begin()
        [first] = await events.append(early, [_new("early")])  # the smaller id, not yet committed
        late = await _committed(maker, "late")
        assert first.id < late.id
        # Served now, "late" would move a reader past "early" for good: it is held back instead.
        assert await _served(maker, start) == []
        await early.commit()
    await caught_up(maker, late)
    assert await _served(maker, start) == ["early", "late"]
    assert await _served(maker, positions.at(first.position)) == ["late"]


@postgresql_only
async def test_a_transaction_that_began_writing_first_and_committed_first_is_served_first(
    app: FastAPI,
) -> None:
    """The id order and the transaction order disagree: the earlier transaction stores its event
    after the later one did, and commits while the later one is still open."""
    maker = app.state.sessionmaker
    async with maker() as session:
        start = await events.head(session)
    async with maker() as older, maker() as younger:
        await older.begin()
        await older.execute(text("SELECT pg_current_xact_id()"))  # takes its transaction id first
        await younger.begin()
        [young] = await events.append(younger, [_new("younger")])  # the smaller id
        [old] = await events.append(older, [_new("older")])
        assert young.id < old.id
        await older.commit()
        await caught_up(maker, old)
        assert await _served(maker, start) == ["older"]  # nothing the open one stores can precede it
        resume_at = positions.at(old.position)
        await younger.commit()
    await caught_up(maker, young)
    assert await _served(maker, resume_at) == ["younger"]  # not skipped although its id is smaller
    assert await _served(maker, start) == ["older", "younger"]


@postgresql_only
async def test_a_plain_event_id_resumes_after_that_event(app: FastAPI) -> None:
    maker = app.state.sessionmaker
    first, second = await _committed(maker, "one"), await _committed(maker, "two")
    async with maker() as session:
        by_id = await events.resume_from(session, str(first.id))
        by_position = await events.resume_from(session, first.position)
        nothing = await events.resume_from(session, "not a position")
    assert by_id == by_position == positions.at(first.position)
    assert nothing is None
    await caught_up(maker, second)
    assert await _served(maker, positions.at(second.position)) == []


@postgresql_only
async def test_a_pruned_event_id_resumes_before_every_later_event(app: FastAPI) -> None:
    maker = app.state.sessionmaker
    gone, kept = await _committed(maker, "gone"), await _committed(maker, "kept")
    async with maker() as session, session.begin():
        await session.execute(text("DELETE FROM events WHERE id = :id"), {"id": gone.id})
    await caught_up(maker, kept)
    async with maker() as session:
        resumed = await events.resume_from(session, str(gone.id))
        past_everything = await events.resume_from(session, str(kept.id + 1000))
        head = await events.head(session)
    assert resumed is not None and await _served(maker, resumed) == ["kept"]
    assert past_everything == head


async def test_the_head_is_the_newest_served_position(app: FastAPI) -> None:
    maker = app.state.sessionmaker
    async with maker() as session:
        assert await events.head(session) == START
    await _committed(maker, "one")
    newest = await _committed(maker, "two")
    await caught_up(maker, newest)
    async with maker() as session:
        assert str(await events.head(session)) == newest.position
