"""What the bench sends and how much of it: the two messages, and the counts and budgets per workload."""

from __future__ import annotations

from dataclasses import dataclass

TOOL_MESSAGE = "triage inbox now"
NO_TOOL_MESSAGE = "collect invoices then pay supplier"
APPROVAL_ACTION = "human_approval_required"


@dataclass(frozen=True)
class Plan:
    """Counts and time budgets (seconds) per workload; every loop stops at its count or its budget."""

    warmup: int = 3
    loop: int = 200
    loop_s: float = 180
    notool: int = 200
    notool_s: float = 90
    clients: int = 8
    agents: int = 8
    concurrent: int = 400
    concurrent_s: float = 180
    history_sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
    history_tails: int = 100
    history_messages: int = 30
    history_s: float = 900
    metrics_sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000)
    metrics_requests: int = 100
    metrics_s: float = 900
    sse_subscribers: tuple[int, ...] = (50, 1_000)
    sse_messages: int = 50
    sse_s: float = 300
    sse_delivery_timeout_s: float = 10
    limit_messages: int = 200
    limit_tails: int = 100
    spawns: int = 50
    limit_s: float = 120
    health_requests: int = 20_000
    health_s: float = 30
    cluster_processes: tuple[int, ...] = (1, 2, 3)
    cluster_start_s: float = 60


QUICK = Plan(
    warmup=1,
    loop=5,
    loop_s=20,
    notool=10,
    notool_s=10,
    clients=3,
    agents=3,
    concurrent=18,
    concurrent_s=20,
    history_sizes=(200, 1_000),
    history_tails=10,
    history_messages=3,
    history_s=30,
    metrics_sizes=(100, 1_000),
    metrics_requests=10,
    metrics_s=30,
    sse_subscribers=(3, 10),
    sse_messages=3,
    sse_s=30,
    limit_messages=10,
    limit_tails=10,
    spawns=5,
    limit_s=30,
    health_requests=300,
    health_s=10,
    cluster_processes=(1, 2),
)
