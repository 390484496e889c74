"""What the events a process hears wake: the worker only for runs they leave runnable."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker

from talkative.conversation.interpreter import LocalInterpreter
from talkative.events.bus import LocalEventBus
from talkative.events.schemas import Event, EventType
from talkative.runtime import Runtime, tool_limits
from talkative.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories.agents import running_agent

T = EventType
_ids = itertools.count(1)


def _event(run_id: str | None, type_: EventType) -> Event:
    n = next(_ids)
    return Event(
        id=n,
        position=str(n),
        type=type_,
        tenant_id="acme",
        agent_id="a",
        run_id=run_id,
        message="",
        payload={},
        timestamp=datetime.now(UTC),
    )


class CountingWaker:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


@pytest.mark.parametrize(
    ("batch", "wakes"),
    [
        # A message answered where it was planned: opened and settled in one batch.
        ([("r1", T.MESSAGE_RECEIVED), ("r1", T.INTERPRETATION_RESULT), ("r1", T.RUN_COMPLETED)], False),
        ([("r1", T.MESSAGE_RECEIVED), ("r1", T.RUN_FAILED)], False),
        ([("r1", T.MESSAGE_RECEIVED), ("r1", T.RUN_WAITING_APPROVAL)], False),
        # Opened with steps to run, or resumed after it settled: the worker has work.
        ([("r1", T.MESSAGE_RECEIVED), ("r1", T.INTERPRETATION_RESULT)], True),
        ([("r1", T.RUN_PAUSED), ("r1", T.RUN_RESUMED)], True),
        ([("r1", T.RUN_APPROVAL_DECIDED)], True),
        # One run settled, another still runnable.
        ([("r1", T.MESSAGE_RECEIVED), ("r2", T.MESSAGE_RECEIVED), ("r1", T.RUN_COMPLETED)], True),
        ([("r1", T.TOOL_RUN_FINISHED), (None, T.AGENT_CREATED)], False),
    ],
)
def test_the_worker_is_woken_only_for_runs_left_runnable(
    tmp_path_factory: pytest.TempPathFactory, batch: list[tuple[str | None, EventType]], wakes: bool
) -> None:
    settings = Settings(TALKATIVE_DATA_DIR=tmp_path_factory.mktemp("data"), AUTH_JWT_SECRET=TEST_SECRET)
    waker = CountingWaker()
    runtime = Runtime(
        settings,
        async_sessionmaker(),
        LocalEventBus(),
        LocalInterpreter(),
        tool_limits(settings),
        worker=waker,
    )
    runtime.hear([_event(run_id, type_) for run_id, type_ in batch])
    assert waker.woken == (1 if wakes else 0)


async def test_a_no_tool_message_does_not_wake_the_worker(
    app: FastAPI,
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On both backends (on PostgreSQL the shared bus hands the batch out from its tail)."""
    runtime: Runtime = app.state.runtime
    woken: list[int] = []
    monkeypatch.setattr(runtime.worker, "wake", lambda: woken.append(1))
    headers = auth()
    await running_agent(client, headers, "quiet", template="mail-triage")
    subscription = app.state.bus.subscribe(None)
    try:
        message = {"message": "collect invoices then pay supplier"}
        reply = (await client.post("/agents/quiet/message", json=message, headers=headers)).json()
        assert reply["run_status"] == "completed"
        # Listeners hear a batch before subscribers get it: once the run's end is here, it was heard.
        while True:
            event = await subscription.next(10)
            assert event is not None, "the run's events never reached the bus"
            if event.run_id == reply["run_id"] and event.type == T.RUN_COMPLETED:
                break
    finally:
        subscription.close()
    assert woken == []
