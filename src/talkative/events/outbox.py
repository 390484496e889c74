"""Events reach subscribers only after the transaction that stored them commits.

Stored events are staged on the session with the (innermost) transaction that stored them. The
outermost commit publishes what is still staged on the bus the sessionmaker was made with; a
rolled-back savepoint discards only what it staged; an outermost transaction that ends any other
way (rollback, close) discards everything. So nothing is pushed that is not in the store, and
nothing stored is left unpublished.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from talkative.events.bus import EventBus
from talkative.events.schemas import Event

_BUS_KEY = "talkative.bus"
_OUTBOX_KEY = "talkative.outbox"
Staged = list[tuple[SessionTransaction, list[Event]]]


def session_info(bus: EventBus) -> dict[str, object]:
    """The `info` to build sessionmakers with, so their sessions know where to publish."""
    return {_BUS_KEY: bus}


def stage(session: AsyncSession, events: Sequence[Event]) -> None:
    sync = session.sync_session
    transaction = sync.get_nested_transaction() or sync.get_transaction()
    assert transaction is not None, "events are appended inside a transaction"
    staged: Staged = session.info.setdefault(_OUTBOX_KEY, [])
    staged.append((transaction, list(events)))


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    staged: Staged = session.info.pop(_OUTBOX_KEY, [])
    bus: EventBus | None = session.info.get(_BUS_KEY)
    if staged and bus is not None:
        bus.publish([e for _, events in staged for e in events])


@event.listens_for(Session, "after_soft_rollback")
def _discard_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    staged: Staged | None = session.info.get(_OUTBOX_KEY)
    if staged:
        staged[:] = [(tx, ev) for tx, ev in staged if not _within(tx, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _discard_unfinished(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one ended without a commit (which pops first)
        session.info.pop(_OUTBOX_KEY, None)
