"""`talkative smoke`: the release runbook's post-deploy checks against a live server, pass or fail.

It speaks only the public HTTP API, creates its own temporary agent and removes it afterwards.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

SMOKE_MESSAGE = "collect invoices then pay supplier"
EXPECTED_EVENTS = ("MESSAGE_RECEIVED", "WORKFLOW_PATCH_APPLIED")


class CheckFailed(Exception):
    pass


@dataclass
class CheckResult:
    name: str
    ok: bool
    ms: float
    detail: str = ""


@dataclass
class SmokeRun:
    base_url: str
    token: str
    timeout_s: float = 20.0
    results: list[CheckResult] = field(default_factory=list)
    agent_id: str = field(default_factory=lambda: f"smoke-{secrets.token_hex(4)}")
    run_id: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    async def check(self, name: str, step: Callable[[], Awaitable[str]]) -> bool:
        started = time.perf_counter()
        try:
            detail, ok = await asyncio.wait_for(step(), self.timeout_s), True
        except CheckFailed as exc:
            detail, ok = str(exc), False
        except TimeoutError:
            detail, ok = f"no answer within {self.timeout_s:.0f}s", False
        except httpx.HTTPError as exc:
            detail, ok = f"{type(exc).__name__}: {exc}", False
        self.results.append(CheckResult(name, ok, round((time.perf_counter() - started) * 1000, 1), detail))
        return ok


def _expect(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        try:
            reason = response.json().get("error", response.text[:200])
        except ValueError:
            reason = response.text[:200]
        raise CheckFailed(
            f"{response.request.method} {response.request.url.path} → {response.status_code}: {reason}"
        )
    return response.json() if "json" in response.headers.get("content-type", "") else response.text


async def _events_for_message(http: httpx.AsyncClient, smoke: SmokeRun) -> str:
    """Subscribes to /events, sends a message, and waits for its events to arrive on the stream."""
    received: list[dict[str, Any]] = []
    changed, subscribed = asyncio.Event(), asyncio.Event()

    async def listen() -> None:
        async with http.stream("GET", "/events", headers={"Accept": "text/event-stream"}) as stream:
            if stream.status_code != 200:
                raise CheckFailed(f"GET /events → {stream.status_code}")
            subscribed.set()
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    changed.set()

    def seen() -> list[str]:
        return [e["type"] for e in received if smoke.run_id is not None and e.get("run_id") == smoke.run_id]

    listener = asyncio.create_task(listen())
    try:
        await asyncio.wait_for(subscribed.wait(), smoke.timeout_s)
        reply = _expect(await http.post(f"/agents/{smoke.agent_id}/message", json={"message": SMOKE_MESSAGE}))
        smoke.run_id = reply["run_id"]
        while not all(t in seen() for t in EXPECTED_EVENTS):
            if listener.done():
                listener.result()  # re-raises why the stream ended
                raise CheckFailed("the event stream ended early")
            changed.clear()
            await changed.wait()
    finally:
        listener.cancel()
    return f"run {smoke.run_id}: {', '.join(seen())}"


async def run_smoke(base_url: str, token: str, *, timeout_s: float = 20.0) -> SmokeRun:
    smoke = SmokeRun(base_url.rstrip("/"), token, timeout_s)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=smoke.base_url, headers=headers, timeout=timeout_s) as http:

        async def health() -> str:
            body = _expect(await http.get("/health"), 200)
            if body.get("ok") is not True:
                raise CheckFailed(f"health says {body}")
            return f"version {body.get('version')} revision {body.get('revision')}"

        async def mission_control() -> str:
            page = _expect(await http.get("/"), 200)
            if "<title>Talkative" not in page:
                raise CheckFailed("/ did not serve the Talkative web app")
            return "page served"

        async def agent_list() -> str:
            return f"{len(_expect(await http.get('/agents'))['agents'])} agents visible"

        async def create_start() -> str:
            body = {"id": smoke.agent_id, "name": "Smoke test (temporary)", "template": "mail-triage"}
            _expect(await http.post("/agents", json=body), 201)
            status = _expect(await http.post(f"/agents/{smoke.agent_id}/start"))["status"]
            if status != "running":
                raise CheckFailed(f"agent is {status} after start")
            return f"agent {smoke.agent_id} running"

        async def router_metrics() -> str:
            totals = _expect(await http.get("/router/metrics"))["totals"]
            return f"{totals['requests']} requests, error rate {totals['error_rate']}"

        async def orchestrator() -> str:
            _expect(await http.get("/orchestrator/contracts"))
            if smoke.run_id is None:
                raise CheckFailed("no run to look up (the message check failed)")
            run = _expect(await http.get(f"/orchestrator/runs/{smoke.run_id}"))
            return f"run {run['run_id']} is {run['status']}"

        async def cleanup() -> str:
            await http.post(f"/agents/{smoke.agent_id}/stop")
            response = await http.delete(f"/agents/{smoke.agent_id}")
            if response.status_code not in (204, 404):
                _expect(response, 204)
            return f"agent {smoke.agent_id} removed"

        await smoke.check("health", health)
        await smoke.check("mission control loads", mission_control)
        await smoke.check("agent list", agent_list)
        created = await smoke.check("create and start agent", create_start)
        if created:
            await smoke.check("message produces events", lambda: _events_for_message(http, smoke))
        await smoke.check("router metrics", router_metrics)
        await smoke.check("orchestrator answers", orchestrator)
        if created:
            await smoke.check("cleanup", cleanup)
    return smoke


def render_table(smoke: SmokeRun) -> str:
    width = max(len(r.name) for r in smoke.results)
    lines = [f"{'check':<{width}}  result  {'ms':>8}  detail"]
    for r in smoke.results:
        lines.append(f"{r.name:<{width}}  {'PASS' if r.ok else 'FAIL':<6}  {r.ms:>8.1f}  {r.detail}")
    lines.append(f"\n{'all checks passed' if smoke.ok else 'SMOKE FAILED'} against {smoke.base_url}")
    return "\n".join(lines)


def render_json(smoke: SmokeRun) -> str:
    return json.dumps(
        {"ok": smoke.ok, "url": smoke.base_url, "checks": [asdict(r) for r in smoke.results]}, indent=2
    )
