"""RunWatch: a tracked run's change is kept until its waiter looks, never lost in between."""

from __future__ import annotations

import asyncio

from talkative.watch import RunWatch
from tests.waiting import within


async def test_a_change_before_the_wait_is_kept_once_tracked() -> None:
    watch = RunWatch()
    watch.track("run-1")
    watch.notify("run-1")  # the worker finished before anyone waited
    assert await watch.changed("run-1", 0) is True  # at once: kept, not waited for
    assert await watch.changed("run-1", 0.01) is False  # consumed: the next wait times out


async def test_an_untracked_change_is_not_kept() -> None:
    watch = RunWatch()
    watch.notify("run-2")
    assert await watch.changed("run-2", 0.01) is False


async def test_a_waiter_wakes_on_notify() -> None:
    watch = RunWatch()
    waiter = asyncio.create_task(watch.changed("run-3", 5))
    await asyncio.sleep(0)
    watch.notify("run-3")
    assert await within(waiter) is True
    watch.forget("run-3")
    watch.notify("run-3")
    assert await watch.changed("run-3", 0.01) is False
