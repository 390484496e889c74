"""The sse workload: one message's events fanned out to many `GET /events` subscribers (bench/sse.py)."""

from __future__ import annotations

import asyncio
import time

import httpx

from bench.client import BenchClient
from bench.plan import NO_TOOL_MESSAGE
from bench.sse import SseSubscriber
from bench.stats import Sampler, percentile, rounded, workload_entry


async def run_sse(bench: BenchClient) -> None:
    """Per message: POST time to the moment its last event reached the slowest subscriber."""
    plan = bench.plan
    agent = await bench.new_agent("sse")
    await bench.warm(agent, NO_TOOL_MESSAGE, 1)
    deadline = time.monotonic() + plan.sse_s
    points, notes = [], []
    verdicts: list[bool] = []
    for index, count in enumerate(plan.sse_subscribers):
        sampler = Sampler(f"{count} subscribers")
        subscribers = [SseSubscriber(bench.base_url, bench.token) for _ in range(count)]
        connect_started = time.perf_counter()
        cpu_before = time.process_time()
        try:
            for start in range(0, count, 100):  # connect in waves so the accept queue keeps up
                wave = subscribers[start : start + 100]
                for sub in wave:
                    sub.start()
                await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in wave)), 60)
            failed = [s for s in subscribers if s.error or s.status != 200]
            for sub in failed[:5]:
                sampler.error(f"subscriber: {sub.error or sub.status}")
            sampler.errors += max(0, len(failed) - 5)
            live = [s for s in subscribers if s not in failed]
            connect_s = time.perf_counter() - connect_started
            await _deliver(bench, agent, live, Sampler("warm-up"), 2)
            sampler.restart()
            for i in range(plan.sse_messages):
                if time.monotonic() > deadline:
                    notes.append(f"{count} subscribers: stopped at the budget after {i} messages")
                    break
                await _deliver(bench, agent, live, sampler, 1)
            sampler.stop()
        finally:
            cpu_s = time.process_time() - cpu_before
            await asyncio.gather(*(s.close() for s in subscribers))
        point = sampler.summary() | {
            "subscribers": count,
            "connected": count - len(failed),
            "connect_s": round(connect_s, 2),
            "first_subscriber_p50_ms": rounded(percentile(sampler.extra.get("first_ms", []), 50)),
            "post_reply_p50_ms": rounded(percentile(sampler.extra.get("post_ms", []), 50)),
            "driver_cpu_s": round(cpu_s, 2),
        }
        points.append(point)
        p50, p99 = percentile(sampler.latencies_ms, 50), percentile(sampler.latencies_ms, 99)
        if index == 0:
            point["target"] = "p50 <= 5 ms"
            verdicts.append(p50 is not None and p50 <= 5 and sampler.errors == 0)
        else:
            point["target"] = "p99 <= 100 ms"
            verdicts.append(p99 is not None and p99 <= 100 and sampler.errors == 0)
        point["passed"] = verdicts[-1]
    notes.append(
        "latency = max over subscribers of (arrival of the run's last event - POST sent), so it "
        "includes the message's own processing (post_reply_p50_ms); first_subscriber_p50_ms is the "
        "same for the fastest subscriber; subscribers are raw-socket readers in the driver's one "
        "asyncio process (driver_cpu_s is its CPU time, on the same 2 cores); 2 warm-up messages"
    )
    counts = plan.sse_subscribers
    bench.workloads["sse"] = workload_entry(
        None,
        target=f"p50 <= 5 ms at {counts[0]}, p99 <= 100 ms at {counts[-1]}",
        passed=all(verdicts) if verdicts else None,
        notes=notes,
        points=points,
    )


async def _deliver(
    bench: BenchClient, agent: str, subscribers: list[SseSubscriber], sampler: Sampler, n: int
) -> None:
    for _ in range(n):
        posted = time.perf_counter()
        try:
            response = await bench.api.post(f"/agents/{agent}/message", json={"message": NO_TOOL_MESSAGE})
        except httpx.HTTPError as exc:
            sampler.error(f"POST message: {exc}")
            continue
        if response.status_code != 200:
            sampler.error(f"POST message -> {response.status_code}")
            continue
        reply_at = time.perf_counter()
        reply = response.json()
        run_id, expected = reply["run_id"], len(reply["events"])
        give_up = time.perf_counter() + bench.plan.sse_delivery_timeout_s
        while True:
            arrived = [s.seen(run_id) for s in subscribers]
            if all(a is not None and a.count >= expected for a in arrived):
                break
            if time.perf_counter() > give_up:
                short = sum(1 for a in arrived if a is None or a.count < expected)
                sampler.error(f"{run_id}: {short} subscribers missed events", answered=True)
                break
            await asyncio.sleep(0.002)
        last = max((a.last for a in arrived if a is not None), default=None)
        if last is not None:
            sampler.add((last - posted) * 1000)
            # The fastest subscriber's complete delivery: how much is fan-out, how much the run.
            first = min(a.last for a in arrived if a is not None)
            sampler.extra.setdefault("first_ms", []).append((first - posted) * 1000)
            sampler.extra.setdefault("post_ms", []).append((reply_at - posted) * 1000)
        for sub in subscribers:
            sub.runs.pop(run_id, None)
