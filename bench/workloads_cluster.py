"""The cluster workload: the concurrent workload's messages against 1, 2 and 3 `talkative serve`
processes sharing one PostgreSQL database, and against one process on SQLite for comparison.

Every setup gets fresh processes and a fresh database (PostgreSQL: created for it, dropped after),
so each starts from the same empty state. The processes have their own data dirs and one
AUTH_JWT_SECRET; the clients spread their requests over them in turn, as a load balancer without
sticky sessions would; they share one workspaces folder. The messages and the audit are the
concurrent workload's (bench/workloads_concurrent.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from bench.client import BenchClient
from bench.plan import NO_TOOL_MESSAGE
from bench.procs import Process, mint_admin_token, postgres_cpu_s, talkative_server, tree_cpu_s
from bench.stats import ratio, workload_entry
from bench.workloads_concurrent import audit_runs, send_concurrently

SQLITE, POSTGRESQL = "sqlite", "postgresql"
WITHIN_SQLITE = 1.5  # PostgreSQL on one process: at most this many times slower than SQLite
SPEEDUP_TARGETS = {2: 1.5, 3: 2.0}  # processes: throughput at least this many times one process's


async def run_cluster(bench: BenchClient) -> None:
    plan = bench.plan
    setups = [(SQLITE, 1)] + [(POSTGRESQL, n) for n in plan.cluster_processes]
    points = [await _setup_run(bench, backend, count) for backend, count in setups]
    sqlite, one = points[0], next(p for p in points if p["processes"] == 1 and p["backend"] == POSTGRESQL)
    versus_sqlite = ratio(sqlite["throughput_per_s"], one["throughput_per_s"])
    one["sqlite_over_postgresql"] = versus_sqlite
    one["target"] = f"0 lost or duplicated; SQLite's throughput <= {WITHIN_SQLITE}x this"
    one["passed"] = one["passed"] and versus_sqlite is not None and versus_sqlite <= WITHIN_SQLITE
    speedups: dict[str, float | None] = {}
    for point in points:
        if point["backend"] != POSTGRESQL or point["processes"] == 1:
            continue
        speedup = point["speedup_vs_one_process"] = ratio(point["throughput_per_s"], one["throughput_per_s"])
        speedups[str(point["processes"])] = speedup
        floor = SPEEDUP_TARGETS.get(point["processes"])
        if floor is not None:
            point["target"] = f"0 lost or duplicated; >= {floor}x one process"
            point["passed"] = point["passed"] and speedup is not None and speedup >= floor
    notes = [
        f"{plan.concurrent} no-tool messages from {plan.clients} clients over {plan.agents} agents "
        "(as concurrent), each setup on fresh processes and a fresh database, 1 warm-up message per "
        "agent through each process in turn; requests go to the processes round-robin; the "
        "concurrent workload's audit through the first process; cpu_s: CPU seconds the driver, the "
        "servers and the local PostgreSQL backends of the setup's database used during the messages, "
        "all on the same cores"
    ]
    bench.workloads["cluster"] = workload_entry(
        None,
        target=(
            f"0 lost or duplicated; PostgreSQL within {WITHIN_SQLITE}x of SQLite on one process; "
            + ", ".join(f"{n} processes >= {x}x one" for n, x in SPEEDUP_TARGETS.items())
        ),
        passed=all(p["passed"] for p in points),
        notes=notes,
        points=points,
        extra={"speedup_vs_one_process": speedups, "sqlite_over_postgresql": versus_sqlite},
    )


async def _setup_run(bench: BenchClient, backend: str, count: int) -> dict[str, Any]:
    """One setup: fresh processes on a fresh database, the messages, the audit; its point."""
    plan = bench.plan
    label = f"{backend}, {count} process{'es' if count > 1 else ''}"
    print(f"[bench] cluster: {label} ...", file=sys.stderr, flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="talkative-cluster-"))
    secret = secrets.token_urlsafe(48)
    servers: list[Process] = []
    failed = False
    try:
        async with _database(bench, backend, workdir) as (url, database):
            # One workspaces folder for all, as a cluster on shared storage has.
            shared = workdir / "workspaces"
            shared.mkdir()
            env = {"TALKATIVE_DATABASE_URL": url, "TALKATIVE_WORKSPACES_DIR": str(shared)}
            servers = [
                talkative_server(workdir / f"p{i}" / "data", secret=secret, env=env) for i in range(count)
            ]
            # Started together, as a rollout would: migrations take turns under their advisory lock.
            await asyncio.gather(*(asyncio.to_thread(s.start, plan.cluster_start_s) for s in servers))
            urls = [s.url for s in servers]
            run = BenchClient(urls[0], mint_admin_token(secret), plan, prefix=bench.prefix)
            async with run.session():
                agents = [await run.new_agent(f"k{i}") for i in range(plan.agents)]
                for i, agent in enumerate(agents):
                    await _warm(run, urls[i % count], agent)
                load_before, cpu_before = _load(), _cpu(servers, database)
                sampler, acked, stopped = await send_concurrently(run, agents, urls)
                cpu, load_after = _cpu(servers, database, since=cpu_before), _load()
                audit = await audit_runs(run, agents, acked)
            exited = [s.port for s in servers if s.process is not None and s.process.poll() is not None]
    except BaseException:
        failed = True
        raise
    finally:
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in servers))
        if failed:
            print(f"[bench] cluster: server logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for problem in audit["problems"][:5]:
        sampler.error(problem, answered=True)
    sampler.label = label
    intact = (
        sampler.unanswered == 0
        and audit["lost"] == 0
        and audit["duplicated"] == 0
        and not audit["problems"]
        and not stopped
        and not exited
    )
    return sampler.summary() | {
        "backend": backend,
        "processes": count,
        "acknowledged": len(acked),
        "lost": audit["lost"],
        "duplicated": audit["duplicated"],
        "audit": {k: v for k, v in audit.items() if k != "problems"} | {"problems": audit["problems"][:10]},
        "not_sent": stopped,
        "servers_exited": exited,
        "cpu_s": cpu,
        "cpu_ms_per_message": {k: round(v * 1000 / len(acked), 2) for k, v in cpu.items() if acked and v},
        "load_avg_before": load_before,
        "load_avg_after": load_after,
        "target": "0 lost or duplicated",
        "passed": intact,
    }


async def _warm(run: BenchClient, url: str, agent: str) -> None:
    async with run.client(url) as http:
        response = await http.post(f"/agents/{agent}/message", json={"message": NO_TOOL_MESSAGE})
        if response.status_code != 200:
            raise RuntimeError(f"warm-up through {url} -> {response.status_code}: {response.text[:300]}")


@contextlib.asynccontextmanager
async def _database(bench: BenchClient, backend: str, workdir: Path) -> AsyncIterator[tuple[str, str | None]]:
    """The setup's database URL and PostgreSQL name: a SQLite file, or a PostgreSQL database
    created now, dropped after."""
    if backend == SQLITE:
        yield f"sqlite+aiosqlite:///{workdir / 'talkative.db'}", None
        return
    dsn = bench.pg_dsn
    name = f"talkative_bench_{secrets.token_hex(4)}"
    await _admin(dsn, f'CREATE DATABASE "{name}"')
    try:
        base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}", name
    finally:
        await _admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _cpu(
    servers: list[Process], database: str | None, since: dict[str, float] | None = None
) -> dict[str, float]:
    """CPU seconds of the driver, the servers (with their children) and the local PostgreSQL
    backends of the setup's database, all on the same cores: where a setup's time went, whatever
    the neighbours did."""
    now = {
        "driver": time.process_time(),
        "servers": sum(tree_cpu_s(s.pid) for s in servers),
        "postgresql": postgres_cpu_s(database) if database else 0.0,
    }
    return {k: round(v - (since or {}).get(k, 0.0), 2) for k, v in now.items()}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
