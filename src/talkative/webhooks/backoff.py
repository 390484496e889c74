"""When to try a failed delivery again, and when to give it up: pure, tested by tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float  # the delay after the first failure, before jitter
    cap_s: float  # no delay grows past this
    max_attempts: int  # a delivery is given up after this many failed attempts...
    max_age_s: float  # ...or once its first attempt is this old, whichever comes first


def delay_s(policy: RetryPolicy, attempts: int, rand: Callable[[], float]) -> float:
    """The wait after `attempts` failed attempts: exponential (base * 2^(n-1), capped), with
    "equal jitter": half of it fixed, half random, so that receivers coming back after an outage
    are not hit by every sender at the same instant, and no retry comes sooner than half the step."""
    step: float = min(policy.cap_s, policy.base_s * 2.0 ** max(0, attempts - 1))
    return step / 2 + rand() * step / 2


def gives_up(policy: RetryPolicy, *, attempts: int, age_s: float) -> bool:
    """Whether a delivery that failed `attempts` times, the first `age_s` ago, is abandoned."""
    return attempts >= policy.max_attempts or age_s >= policy.max_age_s
