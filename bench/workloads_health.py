"""The health workload: `GET /health` as fast as keep-alive clients ask (a load balancer's view)."""

from __future__ import annotations

from bench.client import BenchClient
from bench.hammer import hammer
from bench.stats import Sampler, ratio, workload_entry

TARGET_PER_S = 4_500  # the reference proof-of-concept's rate on this machine, 8 keep-alive clients


async def run_health(bench: BenchClient) -> None:
    plan = bench.plan
    url, clients = bench.base_url, plan.clients
    await hammer(Sampler("warm-up"), url, "/health", clients=clients, requests=400, budget_s=10)
    sampler = await hammer(
        Sampler("health"),
        url,
        "/health",
        clients=clients,
        requests=plan.health_requests,
        budget_s=plan.health_s,
    )
    throughput = sampler.throughput
    limit = bench.limit.get("health_throughput_per_s")
    notes = [
        f"{plan.clients} keep-alive connections from the driver's raw-socket client (bench/hammer.py), "
        "each sending its next GET when the answer is read; 400 warm-up requests"
    ]
    if limit is None:
        notes.append("no limit figure in this run (limit not run)")
    passed = throughput is not None and throughput >= TARGET_PER_S and sampler.errors == 0
    bench.workloads["health"] = workload_entry(
        sampler,
        target=f">= {TARGET_PER_S:,} req/s",
        passed=passed,
        notes=notes,
        extra={"limit_throughput_per_s": limit, "limit_ratio": ratio(throughput, limit)},
    )
