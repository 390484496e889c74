"""The load driver: every workload of issue 8 against a Talkative server, over its public HTTP API.

    python -m bench.driver --base-url http://127.0.0.1:4000 --token "$TOKEN" [--quick] [--only loop,sse]

Requests go only through HTTP with the given token (an admin token: the driver creates agents and
reads the router's admin usage). Two things need the local machine and are optional:

- `--db-path` (the server's SQLite file): the growth phases of `history` and `metrics` seed rows
  straight into it (see bench/seed.py); without it those two workloads are skipped.
- the `limit` workload starts bench/limit_app.py locally (or uses `--limit-url`) and spawns
  `python -c pass`; it is meaningful only on the server's machine.

`--server-pid` (same machine) samples the server's memory. `make bench` (bench/run.py) starts a
fresh server and passes all three.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.client import DEFAULT_PG_DSN, BenchClient
from bench.plan import QUICK, Plan
from bench.procs import ROOT, RssSampler, raise_fd_limit
from bench.stats import workload_entry
from bench.workloads_cluster import run_cluster
from bench.workloads_concurrent import run_concurrent
from bench.workloads_health import run_health
from bench.workloads_loop import run_limit, run_loop, run_loop_notool
from bench.workloads_scale import run_history, run_metrics
from bench.workloads_sse import run_sse

# In the order they run: limit first, so the loops can be judged against it.
STEPS: dict[str, Callable[[BenchClient], Awaitable[None]]] = {
    "limit": run_limit,
    "health": run_health,
    "loop": run_loop,
    "loop_notool": run_loop_notool,
    "concurrent": run_concurrent,
    "cluster": run_cluster,
    "sse": run_sse,
    "history": run_history,
    "metrics": run_metrics,
}
WORKLOADS = tuple(STEPS)


async def run_workloads(bench: BenchClient, only: list[str]) -> None:
    """Every workload asked for, in order, each one's crash recorded rather than raised."""
    async with bench.session():
        health = await bench.api.get("/health")
        health.raise_for_status()
        for name in WORKLOADS:
            if name not in only:
                continue
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            load_before = _load()
            try:
                await STEPS[name](bench)
            except Exception as exc:  # one broken workload must not lose the others' results
                bench.workloads[name] = workload_entry(
                    None,
                    target="-",
                    passed=False,
                    notes=[f"crashed: {type(exc).__name__}: {exc}"],
                    points=[],
                )
            # The machine's state around the workload: noisy neighbours show in the load average.
            context: dict[str, Any] = {"load_avg_before": load_before, "load_avg_after": _load()}
            if bench.rss is not None:
                context["server_rss_after_mb"] = bench.rss.current_mb()
            bench.workloads[name]["context"] = context
            print(
                f"[bench] {name} done in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
                flush=True,
            )


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def git_commit() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": dirty}


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_at_start": _load(),
    }


async def drive(
    *,
    base_url: str,
    token: str,
    quick: bool,
    only: list[str],
    db_path: Path | None,
    limit_url: str | None,
    server_pid: int | None,
    pg_dsn: str = DEFAULT_PG_DSN,
) -> dict[str, Any]:
    plan = QUICK if quick else Plan()
    started_at = datetime.now(UTC)
    sampler = RssSampler(server_pid).start() if server_pid else None
    rss_at_start = sampler.current_mb() if sampler else None
    bench = BenchClient(
        base_url.rstrip("/"), token, plan, db_path=db_path, limit_url=limit_url, pg_dsn=pg_dsn, rss=sampler
    )
    try:
        await run_workloads(bench, only)
    finally:
        memory = (
            sampler.finish() | {"rss_before_workloads_mb": rss_at_start}
            if sampler
            else {"note": "no --server-pid: memory not sampled"}
        )
    return {
        "date": started_at.date().isoformat(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_s": round((datetime.now(UTC) - started_at).total_seconds(), 1),
        **git_commit(),
        "machine": machine(),
        "base_url": base_url,
        "quick": quick,
        "plan": {k: list(v) if isinstance(v, tuple) else v for k, v in plan.__dict__.items()},
        "workloads": bench.workloads,
        "memory": memory,
        "limit": bench.limit,
    }


def parse_only(text: str | None) -> list[str]:
    if not text:
        return list(WORKLOADS)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown workload(s) {unknown}; choose from {', '.join(WORKLOADS)}")
    return names


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke run of every workload")
    parser.add_argument("--only", type=parse_only, default=list(WORKLOADS), help="e.g. loop,sse")
    parser.add_argument(
        "--out-dir", type=Path, default=ROOT / "bench" / "results", help="where <date>.json and .md go"
    )
    parser.add_argument("--limit-url", default=None, help="a running bench/limit_app.py (default: start one)")
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("TALKATIVE_BENCH_PG_DSN", DEFAULT_PG_DSN),
        help="a PostgreSQL role allowed to create databases: the cluster workload's (created, dropped)",
    )


def write_and_print(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    json_path, md_path = report.write(results, out_dir)
    print(report.markdown(results))
    print(f"\nwrote {json_path} and {md_path}", file=sys.stderr)
    return json_path, md_path


def run_loop_policy(coro: Awaitable[Any]) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] ships it
        return asyncio.run(coro)  # type: ignore[arg-type]
    return uvloop.run(coro)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Talkative load driver (public HTTP API only)")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", default=os.environ.get("TALKATIVE_BENCH_TOKEN"), help="an admin JWT")
    parser.add_argument("--db-path", type=Path, default=None, help="the server's SQLite file (growth only)")
    parser.add_argument("--server-pid", type=int, default=None, help="sample this local server's memory")
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or TALKATIVE_BENCH_TOKEN) is required")
    raise_fd_limit()
    results = run_loop_policy(
        drive(
            base_url=args.base_url,
            token=args.token,
            quick=args.quick,
            only=args.only,
            db_path=args.db_path,
            limit_url=args.limit_url,
            server_pid=args.server_pid,
            pg_dsn=args.pg_dsn,
        )
    )
    write_and_print(results, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
