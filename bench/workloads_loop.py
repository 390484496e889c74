"""Sequential workloads: the limit (the floor for this stack), the tool loop and the no-tool loop."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.client import BenchClient
from bench.hammer import hammer
from bench.plan import APPROVAL_ACTION, NO_TOOL_MESSAGE, TOOL_MESSAGE
from bench.procs import limit_server
from bench.stats import Sampler, percentile, ratio, rounded, workload_entry


async def run_limit(bench: BenchClient) -> None:
    """The same request shapes against the minimal app, and a bare interpreter spawn."""
    plan, notes = bench.plan, []
    deadline = time.monotonic() + plan.limit_s
    started_here = None
    url = bench.limit_url
    if url is None:
        workdir = Path(tempfile.mkdtemp(prefix="talkative-limit-"))
        started_here = limit_server(workdir / "data")
        await asyncio.to_thread(started_here.start)
        url = started_here.url
        notes.append("limit app started locally by the driver")
    try:
        async with bench.client(url) as http:
            agent = "limit-agent"
            warm = Sampler("warm-up")
            for _ in range(plan.warmup):
                await bench.timed(
                    warm,
                    "POST",
                    f"/agents/{agent}/message",
                    json_body={"message": NO_TOOL_MESSAGE},
                    http=http,
                )
            message = Sampler("message")
            for _ in range(plan.limit_messages):
                if time.monotonic() > deadline:
                    notes.append("message phase stopped at its time budget")
                    break
                await bench.timed(
                    message,
                    "POST",
                    f"/agents/{agent}/message",
                    json_body={"message": NO_TOOL_MESSAGE},
                    http=http,
                )
            message.stop()
            tail = Sampler("tail=50")
            for _ in range(plan.limit_tails):
                await bench.timed(tail, "GET", f"/agents/{agent}/events", params={"tail": 50}, http=http)
            tail.stop()
        health = Sampler(f"GET /health, {plan.clients} keep-alive clients")
        await hammer(Sampler("warm-up"), url, "/health", clients=plan.clients, requests=400, budget_s=10)
        await hammer(
            health,
            url,
            "/health",
            clients=plan.clients,
            requests=plan.health_requests,
            budget_s=plan.health_s,
        )
    finally:
        if started_here is not None:
            await asyncio.to_thread(started_here.stop)
            await asyncio.to_thread(shutil.rmtree, started_here.log_path.parent, True)
    spawn = Sampler("spawn python -c pass")
    for _ in range(plan.spawns):
        ms = await asyncio.to_thread(_spawn_once)
        if ms is None:
            spawn.error("python -c pass failed")
        else:
            spawn.add(ms)
    spawn.stop()
    skill = await asyncio.to_thread(_bare_skill_runs, plan.spawns)
    bench.limit = {
        "url": url if started_here is None else "local (bench/limit_app.py)",
        "message_p50_ms": rounded(message.p50),
        "tail_p50_ms": rounded(tail.p50),
        "spawn_p50_ms": rounded(spawn.p50),
        "message_plus_spawn_p50_ms": rounded(
            None if message.p50 is None or spawn.p50 is None else message.p50 + spawn.p50
        ),
        "message_throughput_per_s": rounded(message.throughput, 1),
        "health_throughput_per_s": rounded(health.throughput, 1),
        # Information, not part of the target's limit: the loop's skill run by hand, no sandbox.
        "bare_skill_p50_ms": rounded(skill.p50),
        "ratios": {},
    }
    points = [message.summary(), tail.summary(), health.summary(), spawn.summary(), skill.summary()]
    bench.workloads["limit"] = workload_entry(
        None, target="reference only", passed=None, notes=notes, points=points
    )


def _limit_ratio(bench: BenchClient, key: str, value: float | None, against: str) -> float | None:
    value_ratio = ratio(value, bench.limit.get(against))
    if bench.limit:
        bench.limit["ratios"][key] = value_ratio
    return value_ratio


async def run_loop(bench: BenchClient) -> None:
    """Sequential tool messages to a mail-triage agent: the whole critical loop, tool included."""
    plan = bench.plan
    agent = await bench.new_agent("loop")
    await bench.warm(agent, TOOL_MESSAGE)
    sampler = Sampler("loop")
    failures: Counter[str] = Counter()

    tool_ms: list[float] = []

    def check(reply: dict[str, Any]) -> None:
        actions = reply.get("actions") or []
        for event in reply.get("events") or []:
            duration = (event.get("payload") or {}).get("duration_ms")
            if event.get("type") == "METRIC_RECORDED" and isinstance(duration, int | float):
                tool_ms.append(float(duration))
        if reply.get("run_status") != "completed":
            failures[f"run {reply.get('run_status')}"] += 1
        elif not any(a.get("type") == "tool.executed" and a.get("ok") for a in actions):
            failures["no successful tool.executed action"] += 1
        else:
            return
        sampler.error(f"{reply.get('run_id')}: {reply.get('reply')}", answered=True)

    notes = await bench.sequential(sampler, agent, TOOL_MESSAGE, plan.loop, plan.loop_s, check)
    notes.append(f"{plan.warmup} warm-up message(s) first; every reply must show the tool ran and succeeded")
    notes += [f"{n}x {what}" for what, n in failures.items()]
    tool_p50 = rounded(percentile(tool_ms, 50))
    notes.append(f"the tool run itself (METRIC_RECORDED duration_ms, server-side) p50 {tool_p50} ms")
    p50 = sampler.p50
    limit_ratio = _limit_ratio(bench, "loop", p50, "message_plus_spawn_p50_ms")
    passed = p50 is not None and p50 <= 30 and sampler.errors == 0
    if limit_ratio is None:
        notes.append("no limit figure in this run: judged on p50 alone")
    else:
        passed = passed and limit_ratio <= 1.5
    bench.workloads["loop"] = workload_entry(
        sampler,
        target="p50 <= 30 ms and <= 1.5x limit (message + spawn)",
        passed=passed,
        notes=notes,
        extra={"limit_ratio": limit_ratio, "tool_duration_p50_ms": tool_p50},
    )


async def run_loop_notool(bench: BenchClient) -> None:
    """Sequential messages that run no tool: the platform's own overhead per message."""
    plan = bench.plan
    agent = await bench.new_agent("notool")
    await bench.warm(agent, NO_TOOL_MESSAGE)
    sampler = Sampler("loop_notool")
    outcomes: Counter[str] = Counter()

    def check(reply: dict[str, Any]) -> None:
        actions = [a.get("type") for a in reply.get("actions") or []]
        if APPROVAL_ACTION in actions:
            outcomes["asked for approval (a sensitive keyword?)"] += 1
        if any(t and t.startswith("tool.") for t in actions):
            outcomes["ran a tool"] += 1
        if reply.get("run_status") != "completed":
            outcomes[f"run {reply.get('run_status')}"] += 1
            sampler.error(f"{reply.get('run_id')}: {reply.get('run_status')}", answered=True)

    notes = await bench.sequential(sampler, agent, NO_TOOL_MESSAGE, plan.notool, plan.notool_s, check)
    notes.append(f"{plan.warmup} warm-up message(s) first")
    notes += [f"{n}x {what}" for what, n in outcomes.items()] or [
        "no reply asked for approval or ran a tool (every run completed)"
    ]
    p50, throughput = sampler.p50, sampler.throughput
    limit_ratio = _limit_ratio(bench, "loop_notool", p50, "message_p50_ms")
    passed = (
        p50 is not None and p50 <= 5 and (throughput or 0) >= 200 and sampler.errors == 0 and not outcomes
    )
    bench.workloads["loop_notool"] = workload_entry(
        sampler,
        target="p50 <= 5 ms and >= 200 msgs/s",
        passed=passed,
        notes=notes,
        extra={"limit_ratio": limit_ratio},
    )


def _bare_skill_runs(count: int) -> Sampler:
    """The loop's skill as one would run it by hand: `python triage.py` on the sample inbox, in a
    fresh interpreter with no sandbox (what the loop's tool run costs without the platform)."""
    import talkative.skills as skills  # the bench runs in Talkative's environment

    template = Path(skills.__file__).parent / "templates" / "mail-triage"
    sampler = Sampler("(info) spawn python triage.py, no sandbox")
    with tempfile.TemporaryDirectory(prefix="talkative-bare-skill-") as workspace:
        shutil.copy(template / "assets" / "inbox.json", workspace)
        command = [sys.executable, str(template / "scripts" / "triage.py"), "--inbox", "inbox.json"]
        for _ in range(count):
            started = time.perf_counter()
            done = subprocess.run(command, cwd=workspace, capture_output=True, check=False)
            elapsed = (time.perf_counter() - started) * 1000
            if done.returncode == 0:
                sampler.add(elapsed)
            else:
                sampler.error(f"python triage.py failed: {done.stderr.decode(errors='replace')[-300:]}")
    sampler.stop()
    return sampler


def _spawn_once() -> float | None:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "pass"], check=False)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed if done.returncode == 0 else None
