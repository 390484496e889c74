"""Workloads at scale: latency as history, the usage ledger and the runs table grow (seeded)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import seed
from bench.client import BenchClient
from bench.plan import NO_TOOL_MESSAGE, TOOL_MESSAGE
from bench.stats import Sampler, ratio, workload_entry


async def run_history(bench: BenchClient) -> None:
    """Tail and message latency as one agent's history grows (seeded) from 1k to 1M events."""
    plan = bench.plan
    if bench.db_path is None:
        bench.workloads["history"] = workload_entry(
            None,
            target="flat within 25%",
            passed=None,
            notes=["skipped: growth needs --db-path"],
            points=[],
        )
        return
    agent = await bench.new_agent("history")
    # Real runs of both kinds to clone: tool events and no-tool events.
    await bench.warm(agent, TOOL_MESSAGE, 2)
    await bench.warm(agent, NO_TOOL_MESSAGE, 2)
    deadline = time.monotonic() + plan.history_s
    points: list[dict[str, Any]] = []
    notes = [
        "growth seeded directly into the SQLite file (clones of the agent's own events); "
        "every measurement over HTTP"
    ]
    tails, messages = {}, {}
    for size in plan.history_sizes:
        if time.monotonic() > deadline:
            notes.append(f"stopped at the {plan.history_s:g} s budget before {size_label(size)}")
            break
        seeded_at = time.perf_counter()
        actual = await asyncio.to_thread(seed.grow_events, bench.seed_path(), agent_id=agent, target=size)
        seed_s = time.perf_counter() - seeded_at
        tail = Sampler(f"tail=50 @{size_label(size)}")
        for _ in range(3):
            await bench.timed(Sampler("warm-up"), "GET", f"/agents/{agent}/events", params={"tail": 50})
        tail.restart()
        for _ in range(plan.history_tails):
            body = await bench.timed(tail, "GET", f"/agents/{agent}/events", params={"tail": 50})
            if body is not None and len(body.get("events", [])) != 50:
                tail.error(f"tail returned {len(body.get('events', []))} events", answered=True)
        tail.stop()
        message = Sampler(f"message @{size_label(size)}")
        await bench.sequential(message, agent, NO_TOOL_MESSAGE, plan.history_messages, 120, lambda _: None)
        for sampler in (tail, message):
            points.append(sampler.summary() | {"events": actual, "seed_s": round(seed_s, 1)})
        tails[size], messages[size] = tail.p50, message.p50
    verdict = None
    if len(tails) >= 2:
        first, last = min(tails), max(tails)
        # Flat: the slowest size's p50 within 25% of the fastest one's, for tail and for message
        # (max/min over every size, so a noisy first point cannot hide growth behind it).
        tail_spread = _spread(tails.values())
        message_spread = _spread(messages.values())
        notes.append(
            f"p50 {size_label(first)} -> {size_label(last)}: tail x{ratio(tails[last], tails[first])}, "
            f"message x{ratio(messages[last], messages[first])}; spread (slowest/fastest size): "
            f"tail x{tail_spread}, message x{message_spread}"
        )
        errors = sum(p["errors"] for p in points)
        verdict = (
            tail_spread is not None
            and message_spread is not None
            and tail_spread <= 1.25
            and message_spread <= 1.25
            and errors == 0
            and last == max(plan.history_sizes)
        )
    bench.workloads["history"] = workload_entry(
        None,
        target=f"p50 flat within 25% (max/min) from {size_label(plan.history_sizes[0])} to "
        f"{size_label(plan.history_sizes[-1])}",
        passed=verdict,
        notes=notes,
        points=points,
    )


async def run_metrics(bench: BenchClient) -> None:
    """Router metrics and the runs list as the usage ledger and the runs table grow (seeded)."""
    plan = bench.plan
    if bench.db_path is None:
        bench.workloads["metrics"] = workload_entry(
            None, target="p50 <= 5 ms", passed=None, notes=["skipped: growth needs --db-path"], points=[]
        )
        return
    if not bench.agents_made:
        agent = await bench.new_agent("metrics")
        await bench.warm(agent, NO_TOOL_MESSAGE, 1)
    agent_ids = bench.agents_made
    deadline = time.monotonic() + plan.metrics_s
    points: list[dict[str, Any]] = []
    notes = [
        "growth seeded directly into the SQLite file: usage rows with their usage_daily rollup kept "
        f"in step as llm_router.ledger does, and runs, spread over {seed.SPREAD_DAYS} days; "
        "measured over HTTP with the driver's token"
    ]
    last: dict[str, float | None] = {}
    for size in plan.metrics_sizes:
        if time.monotonic() > deadline:
            notes.append(f"stopped at the {plan.metrics_s:g} s budget before {size_label(size)}")
            break
        seeded_at = time.perf_counter()
        usage_rows = await asyncio.to_thread(
            seed.grow_usage, bench.seed_path(), target=size, agent_ids=agent_ids
        )
        runs = await asyncio.to_thread(seed.grow_runs, bench.seed_path(), target=size, agent_ids=agent_ids)
        seed_s = time.perf_counter() - seeded_at
        endpoints = (
            ("GET /router/metrics", "/router/metrics", None),
            ("GET /orchestrator/runs?limit=20", "/orchestrator/runs", {"limit": 20}),
            # Not a target: the same list narrowed to one agent, to tell an index problem apart.
            (
                "(info) runs?agent_id=…&limit=20",
                "/orchestrator/runs",
                {"agent_id": agent_ids[0], "limit": 20},
            ),
        )
        for label, path, params in endpoints:
            sampler = Sampler(f"{label} @{size_label(size)}")
            for _ in range(3):
                await bench.timed(Sampler("warm-up"), "GET", path, params=params)
            sampler.restart()
            for _ in range(plan.metrics_requests):
                await bench.timed(sampler, "GET", path, params=params)
            sampler.stop()
            points.append(
                sampler.summary() | {"usage_rows": usage_rows, "runs": runs, "seed_s": round(seed_s, 1)}
            )
            if not label.startswith("(info)"):
                last[label] = sampler.p50
    reached = bool(points) and points[-1]["usage_rows"] >= max(plan.metrics_sizes)
    errors = sum(p["errors"] for p in points)
    verdict = (
        reached and errors == 0 and all(v is not None and v <= 5 for v in last.values()) if points else None
    )
    bench.workloads["metrics"] = workload_entry(
        None,
        target=f"each p50 <= 5 ms at {size_label(max(plan.metrics_sizes))} rows",
        passed=verdict,
        notes=notes,
        points=points,
    )


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def _spread(values: Any) -> float | None:
    present = [v for v in values if v]
    return ratio(max(present), min(present)) if present else None
