"""Latency samples and what a workload reports about them."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any


def percentile(samples: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (the value at or below which `pct` % of the samples fall)."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 2)


@dataclass
class Sampler:
    """Latencies (ms) of one measured operation, its errors, and its wall-clock span.

    A request that failed outright has no latency and counts once as an error; a request that
    answered but with the wrong outcome (a failed tool, a lost event) keeps its latency and also
    counts as an error.
    """

    label: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    unanswered: int = 0
    error_samples: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    extra: dict[str, list[float]] = field(default_factory=dict)

    def add(self, ms: float) -> None:
        self.latencies_ms.append(ms)

    def error(self, what: str, *, answered: bool = False) -> None:
        self.errors += 1
        if not answered:
            self.unanswered += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:300])

    def restart(self) -> Sampler:
        self.started = time.perf_counter()
        return self

    def stop(self) -> Sampler:
        self.finished = time.perf_counter()
        return self

    @property
    def duration_s(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def throughput(self) -> float | None:
        duration = self.duration_s
        return len(self.latencies_ms) / duration if duration > 0 and self.latencies_ms else None

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "count": len(self.latencies_ms) + self.unanswered,
            "duration_s": rounded(self.duration_s, 3),
            "p50_ms": rounded(self.p50),
            "p95_ms": rounded(percentile(self.latencies_ms, 95)),
            "p99_ms": rounded(percentile(self.latencies_ms, 99)),
            "throughput_per_s": rounded(self.throughput, 1),
            "errors": self.errors,
            "error_samples": self.error_samples,
        }


def workload_entry(
    sampler: Sampler | None,
    *,
    target: str,
    passed: bool | None,
    notes: list[str],
    points: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry of `workloads` in the results file; composite workloads carry `points` instead."""
    if sampler is not None:
        entry = sampler.summary()
        entry.pop("label")
    else:
        pts = points or []
        entry = {
            "count": sum(p["count"] for p in pts),
            "duration_s": rounded(sum(p["duration_s"] or 0 for p in pts), 3),
            "p50_ms": None,
            "p95_ms": None,
            "p99_ms": None,
            "throughput_per_s": None,
            "errors": sum(p["errors"] for p in pts),
            "error_samples": [s for p in pts for s in p.get("error_samples", [])][:5],
        }
    entry.update(target=target, passed=passed, notes=notes)
    if points is not None:
        entry["points"] = points
    if extra:
        entry.update(extra)
    return entry
