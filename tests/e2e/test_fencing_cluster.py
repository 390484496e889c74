"""Two real server processes on one PostgreSQL: one is frozen (SIGSTOP) or killed (SIGKILL) in
the middle of a run, the other takes the run over once the lease expires, and the first, if it
comes back, writes nothing of its stale outcome.

Both processes share one data dir (so the agent's workspace), each with its own port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from talkative.orchestrator.leases import PLANNER_STOPPED
from tests.conftest import TEST_SECRET, _pg_admin, fresh_pg_database
from tests.e2e.server import ServerProcess
from tests.factories.agents import running_agent_sync
from tests.factories.skills import write_gated_skill
from tests.llm_router.fake_openai import FakeOpenAI, Reply, answer_json, fake_openai, fake_openai_factory
from tests.orchestrator.conftest import REMOTE_RULES
from tests.waiting import eventually_sync, released

__all__ = ["fake_openai", "fake_openai_factory"]

pytestmark = pytest.mark.e2e
Json = dict[str, Any]


def _token(role: Role, tenant: str | None) -> dict[str, str]:
    token = mint_token(secret=TEST_SECRET, sub="ops", role=role, tenant_id=tenant, ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


OPERATOR = _token(Role.OPERATOR, "acme")
ADMIN = _token(Role.ADMIN, None)


@contextmanager
def cluster(tmp_path: Path, **env: str) -> Iterator[Callable[[], ServerProcess]]:
    """Server processes started on demand on a fresh PostgreSQL database, with a one-second lease."""
    started: list[ServerProcess] = []
    with fresh_pg_database("talkative_fencing") as url:
        # As the README advises for a cluster: a process frozen inside a transaction holds the
        # run's row lock, which a takeover skips, until the database ends its session.
        name = url.rsplit("/", 1)[1]
        asyncio.run(_pg_admin(f"ALTER DATABASE \"{name}\" SET idle_in_transaction_session_timeout = '5s'"))
        settings = {
            "AUTH_JWT_SECRET": TEST_SECRET,
            "TALKATIVE_DATABASE_URL": url,
            "TALKATIVE_RUN_LEASE_S": "1",
            "TALKATIVE_WORKER_POLL_S": "0.2",
            "TALKATIVE_TOOL_TIMEOUT_S": "600",  # only a lost lease ends a step this soon
            **env,
        }

        def start() -> ServerProcess:
            server = ServerProcess(data_dir=tmp_path / "data", env=settings)
            started.append(server)
            return server.start()

        try:
            yield start
        finally:
            for server in started:
                resume(server)
                server.stop()


def freeze(server: ServerProcess) -> None:
    assert server.process is not None
    os.killpg(server.process.pid, signal.SIGSTOP)


def resume(server: ServerProcess) -> None:
    if server.process is not None and server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGCONT)


def metric(server: ServerProcess, name: str, labels: dict[str, str] | None = None) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items())
    )


def run_of(server: ServerProcess, run_id: str) -> Json:
    response = httpx.get(f"{server.url}/orchestrator/runs/{run_id}", headers=OPERATOR, timeout=10)
    assert response.status_code == 200, response.text
    run: Json = response.json()
    return run


def events_of(run: Json) -> list[str]:
    return [record["name"] for record in run["steps"] if record["type"] == "event"]


def usage(server: ServerProcess) -> list[Json]:
    response = httpx.get(f"{server.url}/router/admin/usage", headers=ADMIN, timeout=10)
    assert response.status_code == 200, response.text
    rows: list[Json] = response.json()["usage"]
    return rows


def spent_today(server: ServerProcess) -> float:
    response = httpx.get(
        f"{server.url}/router/admin/budgets", params={"tenant_id": "acme"}, headers=ADMIN, timeout=10
    )
    assert response.status_code == 200, response.text
    return float(response.json()["spend"]["tenants"]["acme"]["day"])


def test_a_worker_frozen_past_its_lease_writes_nothing_after_the_takeover(tmp_path: Path) -> None:
    with cluster(tmp_path) as start:
        first = start()
        with httpx.Client(base_url=first.url, headers=OPERATOR, timeout=30) as http:
            running_agent_sync(http, "fenced")
            workspace = tmp_path / "data" / "workspaces" / "acme" / "fenced"
            write_gated_skill(workspace, "gate-a", "alpha")
            assert http.post("/agents/fenced/skills/attach", json={"skillName": "gate-a"}).status_code == 200
            command = {"agent_id": "fenced", "type": "start_task", "payload": {"text": "alpha"}}
            accepted = http.post("/orchestrator/commands", json=command)
            assert accepted.status_code == 202, accepted.text
        run_id = accepted.json()["run_id"]
        eventually_sync(
            lambda: (workspace / "outputs/gate-a-1.alive").exists(), what="the step never started"
        )
        second = start()  # the first keeps its lease meanwhile: nothing to take over yet
        assert run_of(second, run_id)["plan"][0]["attempts"] == 1

        freeze(first)  # past its lease: the second takes the run over and runs the step again
        eventually_sync(lambda: (workspace / "outputs/gate-a-2.alive").exists(), what="no takeover")
        (workspace / "inputs/go-2").write_text("")
        eventually_sync(lambda: run_of(second, run_id)["status"] == "completed", what="the run never ended")
        resume(first)

        # The first one's step waits for a file never written: only its lost lease ends it.
        eventually_sync(
            lambda: released(workspace / "outputs/gate-a-1.alive"), what="the stale tool lived on"
        )
        fenced = {"phase": "step"}
        eventually_sync(
            lambda: metric(first, "talkative_fenced_writes_total", fenced) == 1, what="not refused"
        )
        run = run_of(first, run_id)
        assert metric(second, "talkative_lease_takeovers_total") == 1
    assert [(s["status"], s["attempts"]) for s in run["plan"]] == [("done", 2)]
    assert events_of(run).count("TOOL_RUN_FINISHED") == 1
    assert (workspace / "outputs/executions.log").read_text() == "gate-a 2\n"


@contextmanager
def planning_on_the_first(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> Iterator[tuple[ServerProcess, ServerProcess, Future[httpx.Response], threading.Event]]:
    """Two processes; a message sent through the first, its model call held in flight."""
    env = {"OPENAI_API_KEY": "sk-test-e2e-0123456789abcdef", "OPENAI_BASE_URL": fake_openai.base_url}
    answer = threading.Event()
    fake_openai.reply = Reply(content=answer_json(["Check the inbox"]), gate=answer)
    with cluster(tmp_path, TALKATIVE_LLM_TIMEOUT_S="120", **env) as start, ThreadPoolExecutor(1) as pool:
        first, second = start(), start()
        with httpx.Client(base_url=first.url, headers=OPERATOR, timeout=30) as http:
            running_agent_sync(http, "thinker")
        assert (
            httpx.put(f"{first.url}/router/admin/rules", json=REMOTE_RULES, headers=ADMIN).status_code == 200
        )
        sent = pool.submit(
            httpx.post,
            f"{first.url}/agents/thinker/message",
            json={"message": "check the inbox"},
            headers=OPERATOR,
            timeout=120,
        )
        try:
            eventually_sync(lambda: fake_openai.count == 1, what="the model was never called")
            assert [r["status"] for r in usage(second)] == ["reserved"]
            yield first, second, sent, answer
        finally:
            answer.set()


def the_run(server: ServerProcess) -> Json:
    response = httpx.get(f"{server.url}/orchestrator/runs", headers=OPERATOR, timeout=10)
    (run,) = response.json()["runs"]
    return run_of(server, run["run_id"])


def test_a_run_whose_process_died_during_the_model_call_fails_and_releases_its_hold(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with planning_on_the_first(tmp_path, fake_openai) as (first, second, sent, _):
        first.stop(signal.SIGKILL)
        eventually_sync(lambda: the_run(second)["status"] == "failed", what="the run was never given up")
        run = the_run(second)
        assert metric(second, "talkative_lease_takeovers_total") == 1
        assert [r["status"] for r in usage(second)] == ["released"]
        assert spent_today(second) == 0.0
        with pytest.raises(httpx.HTTPError):
            sent.result()
    assert run["last_error"] == PLANNER_STOPPED
    assert (run["reply"], run["plan"]) == (None, [])


def test_a_process_frozen_during_the_model_call_writes_nothing_when_it_wakes(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    with planning_on_the_first(tmp_path, fake_openai) as (first, second, sent, answer):
        freeze(first)
        eventually_sync(lambda: the_run(second)["status"] == "failed", what="the run was never given up")
        answer.set()  # the answer reaches the frozen process, which reads it once it wakes
        resume(first)
        reply = sent.result()
        assert reply.status_code == 200, reply.text
        assert metric(first, "talkative_fenced_writes_total", {"phase": "plan"}) == 1
        run = the_run(second)
        assert [r["status"] for r in usage(second)] == ["released"]
        assert spent_today(second) == 0.0
    assert (reply.json()["run_status"], run["status"], run["last_error"]) == (
        "failed",
        "failed",
        PLANNER_STOPPED,
    )
    assert events_of(run) == ["RUN_FAILED"]
