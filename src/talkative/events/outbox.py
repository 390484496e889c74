"""Events reach subscribers only after the transaction that stored them commits.

Stored events are staged on the session; a commit publishes them on the bus the sessionmaker was
made with, a rollback discards them. So nothing is pushed that is not in the store.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from talkative.events.bus import EventBus
from talkative.events.schemas import Event

_BUS_KEY = "talkative.bus"
_OUTBOX_KEY = "talkative.outbox"


def session_info(bus: EventBus) -> dict[str, object]:
    """The `info` to build sessionmakers with, so their sessions know where to publish."""
    return {_BUS_KEY: bus}


def stage(session: AsyncSession, events: Sequence[Event]) -> None:
    outbox: list[Event] = session.info.setdefault(_OUTBOX_KEY, [])
    outbox.extend(events)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    staged: list[Event] = session.info.pop(_OUTBOX_KEY, [])
    bus: EventBus | None = session.info.get(_BUS_KEY)
    if staged and bus is not None:
        bus.publish(staged)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_OUTBOX_KEY, None)
