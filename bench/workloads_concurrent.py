"""The concurrent workload: many clients and agents at once, then an audit that nothing was lost."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from typing import Any

from bench.client import BenchClient
from bench.plan import NO_TOOL_MESSAGE
from bench.stats import Sampler, ratio, rounded, workload_entry

Ack = tuple[str, str, list[int], str]  # agent, run_id, event ids, run_status of one acknowledged message


async def run_concurrent(bench: BenchClient) -> None:
    """N clients x M agents in parallel, then an audit of runs, events and usage via the API."""
    plan = bench.plan
    agents = [await bench.new_agent(f"c{i}") for i in range(plan.agents)]
    for agent in agents:
        await bench.warm(agent, NO_TOOL_MESSAGE, 1)
    baseline = (bench.workloads.get("loop_notool") or {}).get("throughput_per_s")
    notes: list[str] = ["1 warm-up message per agent first"]
    if baseline is None:
        base = Sampler("baseline")
        base_agent = await bench.new_agent("baseline")
        await bench.sequential(base, base_agent, NO_TOOL_MESSAGE, 50, 30, lambda _: None)
        baseline = rounded(base.throughput, 1)
        notes.append(f"loop_notool not run: sequential baseline measured here ({baseline}/s)")
    sampler, acked, stopped = await send_concurrently(bench, agents, [bench.base_url])
    if stopped:
        notes.append(f"{stopped} messages not sent: the {plan.concurrent_s:g} s budget ran out")
    audit = await audit_runs(bench, agents, acked)
    for problem in audit["problems"][:5]:
        sampler.error(problem, answered=True)
    throughput = sampler.throughput
    speedup = ratio(throughput, baseline)
    notes.append(
        f"{plan.clients} clients x {len(agents)} agents, client i sends its j-th message to agent "
        f"(i+j) mod {len(agents)}; audit: {audit['checked_runs']} acknowledged runs checked against "
        "/orchestrator/runs, /agents/{id}/events and /router/admin/usage"
    )
    passed = (
        sampler.unanswered == 0
        and audit["lost"] == 0
        and audit["duplicated"] == 0
        and not audit["problems"]
        and speedup is not None
        and speedup >= 1.5
    )
    bench.workloads["concurrent"] = workload_entry(
        sampler,
        target="0 errors, 0 lost, throughput >= 1.5x loop_notool",
        passed=passed,
        notes=notes,
        extra={
            "acknowledged": len(acked),
            "lost": audit["lost"],
            "duplicated": audit["duplicated"],
            "audit": {k: v for k, v in audit.items() if k != "problems"}
            | {"problems": audit["problems"][:10]},
            "sequential_throughput_per_s": baseline,
            "speedup_vs_sequential": speedup,
        },
    )


async def send_concurrently(
    bench: BenchClient, agents: list[str], urls: list[str]
) -> tuple[Sampler, list[Ack], int]:
    """`plan.concurrent` no-tool messages from `plan.clients` clients, each with a keep-alive
    connection to every URL: client i sends its j-th message to agent (i+j) mod len(agents), and
    each request goes to the next URL in turn, shared by all clients (a load balancer's round robin,
    no sticky sessions). Returns the sampler, the acknowledged messages and how many were not sent."""
    plan = bench.plan
    per_client = [
        plan.concurrent // plan.clients + (i < plan.concurrent % plan.clients) for i in range(plan.clients)
    ]
    acked: list[Ack] = []
    sampler = Sampler("concurrent")
    deadline = time.monotonic() + plan.concurrent_s
    turn = itertools.count()
    stopped = 0

    async def client(index: int) -> None:
        nonlocal stopped
        async with contextlib.AsyncExitStack() as stack:
            https = [await stack.enter_async_context(bench.client(url)) for url in urls]
            for j in range(per_client[index]):
                if time.monotonic() > deadline:
                    stopped += per_client[index] - j
                    return
                agent = agents[(index + j) % len(agents)]
                reply = await bench.timed(
                    sampler,
                    "POST",
                    f"/agents/{agent}/message",
                    json_body={"message": NO_TOOL_MESSAGE},
                    http=https[next(turn) % len(https)],
                )
                if reply is not None:
                    ids = [e["id"] for e in reply.get("events") or []]
                    acked.append((agent, reply["run_id"], ids, reply.get("run_status", "")))

    sampler.restart()
    await asyncio.gather(*(client(i) for i in range(plan.clients)))
    sampler.stop()
    return sampler, acked, stopped


async def audit_runs(bench: BenchClient, agents: list[str], acked: list[Ack]) -> dict[str, Any]:
    """Every acknowledged message has exactly one run, all its events and one usage row."""
    problems: list[str] = []
    lost = duplicated = 0
    by_agent: dict[str, list[tuple[str, list[int], str]]] = {a: [] for a in agents}
    for agent, run_id, ids, status in acked:
        by_agent[agent].append((run_id, ids, status))
    runs_seen = events_seen = usage_seen = 0
    for agent, mine in by_agent.items():
        acked_runs = {run_id for run_id, _, _ in mine}
        if len(acked_runs) != len(mine):
            duplicated += len(mine) - len(acked_runs)
            problems.append(f"{agent}: the same run_id acknowledged twice")
        runs = (await bench.setup("GET", f"/orchestrator/runs?agent_id={agent}&limit=1000"))["runs"]
        events = (await bench.setup("GET", f"/agents/{agent}/events?tail=1000"))["events"]
        usage = (await bench.setup("GET", f"/router/admin/usage?agent_id={agent}&limit=1000"))["usage"]
        if max(len(runs), len(events), len(usage)) >= 1000:
            problems.append(f"{agent}: more than 1000 rows, the audit cannot see them all")
        runs_seen, events_seen, usage_seen = (
            runs_seen + len(runs),
            events_seen + len(events),
            usage_seen + len(usage),
        )
        run_count = Counter(r["run_id"] for r in runs)
        usage_count = Counter(u["run_id"] for u in usage)
        event_ids = Counter(e["id"] for e in events)
        events_by_run: dict[str, set[int]] = {}
        for e in events:
            events_by_run.setdefault(e.get("run_id") or "", set()).add(e["id"])
        duplicated += sum(n - 1 for n in event_ids.values() if n > 1)
        warmup_runs = {r for r in run_count if r not in acked_runs}
        for run_id, ids, status in mine:
            if run_count[run_id] != 1:
                lost += run_count[run_id] == 0
                duplicated += max(0, run_count[run_id] - 1)
                problems.append(f"{run_id}: {run_count[run_id]} runs listed")
            missing = set(ids) - events_by_run.get(run_id, set())
            if missing or not ids:
                lost += 1
                problems.append(f"{run_id}: {len(missing)} of its {len(ids)} reply events not in the tail")
            extra = events_by_run.get(run_id, set()) - set(ids)
            if extra:
                duplicated += 1
                problems.append(f"{run_id}: {len(extra)} events not in its reply")
            if usage_count[run_id] != 1:
                lost += usage_count[run_id] == 0
                duplicated += max(0, usage_count[run_id] - 1)
                problems.append(f"{run_id}: {usage_count[run_id]} usage rows")
            if status != "completed":
                problems.append(f"{run_id}: run_status {status}")
        # The one warm-up run per agent is expected; anything else is a run nobody asked for.
        if len(warmup_runs) > 1:
            duplicated += len(warmup_runs) - 1
            problems.append(f"{agent}: {len(warmup_runs)} runs that no acknowledged message opened")
    return {
        "checked_runs": len(acked),
        "lost": lost,
        "duplicated": duplicated,
        "runs_listed": runs_seen,
        "events_listed": events_seen,
        "usage_rows_listed": usage_seen,
        "problems": problems,
    }
