"""Waiting until the store serves what a test committed.

On PostgreSQL an event is served once no transaction that could precede it is still running, on
the whole database server (other databases' transactions included: transaction ids are
server-wide). A test that reads right after its commit waits for that, briefly."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.events import service as events
from talkative.events.positions import at
from talkative.events.schemas import Event
from tests.waiting import eventually


async def caught_up(maker: async_sessionmaker[AsyncSession], last: Event) -> None:
    """Returns once `last`, and so every event committed before it, is served."""

    async def served() -> bool:
        async with maker() as session:
            return await events.head(session) >= at(last.position)

    await eventually(served, what=f"event {last.position} was never served")
