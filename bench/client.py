"""The driver's side of the public HTTP API: measured and set-up requests, bench agents, results so far."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.plan import Plan
from bench.procs import RssSampler
from bench.stats import Sampler

DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class BenchClient:
    """One run's connection to the server under test; every workload reads and reports through it."""

    base_url: str
    token: str
    plan: Plan
    db_path: Path | None = None
    limit_url: str | None = None
    pg_dsn: str = DEFAULT_PG_DSN  # where the cluster workload creates (and drops) its databases
    prefix: str = field(default_factory=lambda: f"bench-{secrets.token_hex(3)}")
    workloads: dict[str, dict[str, Any]] = field(default_factory=dict)
    limit: dict[str, Any] = field(default_factory=dict)
    agents_made: list[str] = field(default_factory=list)
    rss: RssSampler | None = None
    http: httpx.AsyncClient | None = None

    def client(self, base_url: str | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url or self.base_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=httpx.Timeout(60.0, connect=10.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )

    @property
    def api(self) -> httpx.AsyncClient:
        assert self.http is not None, "use `async with bench.session()`"
        return self.http

    @contextlib.asynccontextmanager
    async def session(self) -> Any:
        async with self.client() as http:
            self.http = http
            try:
                yield self
            finally:
                self.http = None

    async def timed(
        self,
        sampler: Sampler,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        http: httpx.AsyncClient | None = None,
        expect: int = 200,
    ) -> Any:
        """One measured request: its latency on success, an error otherwise; returns the JSON body."""
        client = http or self.api
        started = time.perf_counter()
        try:
            response = await client.request(method, path, json=json_body, params=params)
        except httpx.HTTPError as exc:
            sampler.error(f"{method} {path}: {type(exc).__name__}: {exc}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != expect:
            sampler.error(f"{method} {path} -> {response.status_code}: {response.text[:200]}")
            return None
        sampler.add(elapsed)
        try:
            return response.json()
        except ValueError:
            sampler.error(f"{method} {path}: body is not JSON", answered=True)
            return None

    async def setup(self, method: str, path: str, *, json_body: Any = None, expect: int = 200) -> Any:
        """An unmeasured request the workload needs; failing it fails the workload loudly."""
        response = await self.api.request(method, path, json=json_body)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json()

    async def new_agent(self, name: str, *, template: str | None = "mail-triage") -> str:
        agent_id = f"{self.prefix}-{name}"
        body: dict[str, Any] = {"id": agent_id, "name": f"bench {name}"}
        if template:
            body["template"] = template
        await self.setup("POST", "/agents", json_body=body, expect=201)
        await self.setup("POST", f"/agents/{agent_id}/start")
        self.agents_made.append(agent_id)
        return agent_id

    async def warm(self, agent_id: str, text: str, n: int | None = None) -> None:
        for _ in range(self.plan.warmup if n is None else n):
            await self.setup("POST", f"/agents/{agent_id}/message", json_body={"message": text})

    def seed_path(self) -> Path:
        if self.db_path is None:
            raise RuntimeError("needs --db-path")
        return self.db_path

    async def sequential(
        self,
        sampler: Sampler,
        agent_id: str,
        text: str,
        n: int,
        budget_s: float,
        check: Callable[[Any], None],
    ) -> list[str]:
        """Messages to one agent, one at a time, until `n` or the budget; `check` sees every reply."""
        notes: list[str] = []
        deadline = time.monotonic() + budget_s
        sampler.restart()
        for i in range(n):
            if time.monotonic() > deadline:
                notes.append(f"stopped at the {budget_s:g} s budget after {i} of {n}")
                break
            reply = await self.timed(
                sampler, "POST", f"/agents/{agent_id}/message", json_body={"message": text}
            )
            if reply is not None:
                check(reply)
        sampler.stop()
        return notes
