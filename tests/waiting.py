"""Waiting in tests: wait for the event a test expects, never sleep a fixed time and then assert.

`eventually` polls a condition until it holds and returns what the condition returned; `within`
awaits something that must finish. Both fail with an AssertionError that says what never happened.
The deadlines are generous on purpose: they only turn a hang into a failure, and are never a claim
about speed (speed is measured in bench/). `eventually_sync` is `eventually` for blocking code (a
test against a server process, a thread).
"""

from __future__ import annotations

import asyncio
import fcntl
import inspect
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar, overload

T = TypeVar("T")

DEADLINE_S = 30.0  # how long a condition may take to hold before the test fails
POLL_S = 0.02  # between two looks at the condition

What = str | Callable[[], str]


def _describe(what: What, timeout: float) -> str:
    text = what() if callable(what) else what
    return f"{text} (waited {timeout:g}s)"


@overload
async def eventually(
    condition: Callable[[], Awaitable[T | None]], *, timeout: float = ..., what: What = ..., poll: float = ...
) -> T: ...


@overload
async def eventually(
    condition: Callable[[], T | None], *, timeout: float = ..., what: What = ..., poll: float = ...
) -> T: ...


async def eventually(
    condition: Callable[[], object],
    *,
    timeout: float = DEADLINE_S,
    what: What = "the condition never held",
    poll: float = POLL_S,
) -> object:
    """Calls `condition` (a function or a coroutine function) until it returns something truthy,
    and returns that. After `timeout` seconds, fails with `what` (a string, or a function that
    describes the last state seen). An exception raised by `condition` ends the wait at once."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(_describe(what, timeout))
        await asyncio.sleep(poll)


def eventually_sync(
    condition: Callable[[], T | None],
    *,
    timeout: float = DEADLINE_S,
    what: What = "the condition never held",
    poll: float = POLL_S,
) -> T:
    """`eventually` for blocking code: the same contract, waiting with time.sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value is not None and value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(_describe(what, timeout))
        time.sleep(poll)


def released(lock: Path) -> bool:
    """Whether nobody holds the flock on `lock` any more: the kernel drops a process's flock when
    the process is gone, so a script that locks a file at its start tells when it has ended
    (whatever its pid namespace, and wherever its children went)."""
    with lock.open() as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


async def within(
    awaitable: Awaitable[T], *, timeout: float = DEADLINE_S, what: str = "it never finished"
) -> T:
    """Awaits `awaitable`; fails with `what` if it has not finished after `timeout` seconds (it is
    then cancelled). A TimeoutError raised by the awaitable itself is passed on as it is."""
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            return await awaitable
    except TimeoutError:
        if scope.expired():
            raise AssertionError(_describe(what, timeout)) from None
        raise
