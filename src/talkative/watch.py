"""In-process wake-ups: who waits on a run learns at once when it changes (the DB stays the truth).

Fed by this process's worker and controls, and by the bus's listener (Runtime.hear) for runs moved
by any process; waiters also poll, a safety net should a wake-up be lost.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict


class RunWatch:
    def __init__(self) -> None:
        self._changed: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._cancels: dict[str, asyncio.Event] = {}

    def notify(self, run_id: str) -> None:
        event = self._changed.get(run_id)
        if event is not None:
            event.set()

    def track(self, run_id: str) -> None:
        """From now on a change of `run_id` is kept until the next `changed` call, not missed."""
        _ = self._changed[run_id]

    async def changed(self, run_id: str, wait_s: float) -> bool:
        """Returns when `run_id` is notified (True; at once if it was, since the last call or
        `track`) or after `wait_s` seconds (False), whichever comes first."""
        event = self._changed[run_id]
        if event.is_set():
            event.clear()
            return True
        try:
            async with asyncio.timeout(wait_s):
                await event.wait()
        except TimeoutError:
            return False
        finally:
            event.clear()
        return True

    def forget(self, run_id: str) -> None:
        self._changed.pop(run_id, None)

    def cancel_signal(self, run_id: str) -> asyncio.Event:
        """The event a running tool of this run watches; setting it kills the tool's process tree."""
        return self._cancels.setdefault(run_id, asyncio.Event())

    def cancel(self, run_id: str) -> None:
        signal = self._cancels.get(run_id)
        if signal is not None:
            signal.set()

    def release(self, run_id: str) -> None:
        self._cancels.pop(run_id, None)
