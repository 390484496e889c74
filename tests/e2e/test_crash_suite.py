"""The crash suite: three real processes on one fresh PostgreSQL database, each with its own data
dir and one shared workspaces root, started at the same moment on the empty database. While a
subscriber reconnects every quarter of a second to one process after another, the suite kills -9
the process running a tool step, cancels a tool step through another process, freezes a worker
past its lease, kills -9 the process waiting on a model call, and kills the leader. Afterwards:
every acknowledged run exists once with a sane final state, TOOL_RUN_FINISHED once per step, no
budget hold left, no event skipped by the subscriber, and no guarded side effect twice."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from talkative.orchestrator.leases import PLANNER_STOPPED
from tests.conftest import TEST_SECRET, _pg_admin, fresh_pg_database
from tests.e2e.server import ServerProcess
from tests.e2e.test_cluster_sse import ReconnectingReader
from tests.factories.agents import running_agent_sync
from tests.factories.skills import write_gated_skill
from tests.llm_router.fake_openai import FakeOpenAI, Reply, answer_json, fake_openai, fake_openai_factory
from tests.orchestrator.conftest import REMOTE_RULES
from tests.waiting import eventually_sync, released

__all__ = ["fake_openai", "fake_openai_factory"]

Json = dict[str, Any]
SETTLED = {"completed", "rejected", "failed", "cancelled"}
LEADER = re.compile(r"^talkative_leader (\S+)$", re.MULTILINE)


def _headers(role: Role = Role.OPERATOR, tenant: str | None = "acme") -> dict[str, str]:
    token = mint_token(secret=TEST_SECRET, sub="crash", role=role, tenant_id=tenant, ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


OPERATOR, ADMIN = _headers(), _headers(Role.ADMIN, None)


class Crashes:
    """The processes of the suite, and what it needs to find and hurt them."""

    def __init__(self, url: str, tmp_path: Path, fake: FakeOpenAI) -> None:
        self.url = url
        self.tmp_path = tmp_path
        self.shared = tmp_path / "workspaces"
        self.env = {
            "AUTH_JWT_SECRET": TEST_SECRET,
            "TALKATIVE_DATABASE_URL": url,
            "TALKATIVE_WORKSPACES_DIR": str(self.shared),
            "TALKATIVE_RUN_LEASE_S": "1",
            "TALKATIVE_WORKER_POLL_S": "0.2",
            "TALKATIVE_CLUSTER_POLL_S": "0.5",
            "TALKATIVE_TOOL_TIMEOUT_S": "600",  # only a cancel or a lost lease ends a step this soon
            "TALKATIVE_LLM_TIMEOUT_S": "120",
            "TALKATIVE_SSE_KEEPALIVE_S": "0.1",
            "OPENAI_API_KEY": "sk-test-e2e-0123456789abcdef",
            "OPENAI_BASE_URL": fake.base_url,
        }
        self.processes: list[ServerProcess] = []
        self.frozen: ServerProcess | None = None  # SIGSTOPped: alive, but answers nothing

    def start(self, count: int) -> list[ServerProcess]:
        """`count` processes at once (on an empty database: they migrate under the lock)."""
        made = []
        for _ in range(count):
            folder = self.tmp_path / f"p{len(self.processes)}"
            folder.mkdir()
            made.append(ServerProcess(data_dir=folder / "data", env=self.env))
            self.processes.append(made[-1])
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(lambda p: p.start(timeout=60), made))
        return made

    @property
    def alive(self) -> list[ServerProcess]:
        return [
            p
            for p in self.processes
            if p.process is not None and p.process.poll() is None and p is not self.frozen
        ]

    def sql(self, query: str, *args: object) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                return list(await conn.fetch(query, *args))
            finally:
                await conn.close()

        return asyncio.run(run())

    def holder(self, run_id: str) -> ServerProcess:
        """The process whose worker holds the run's lease (owners are "host:pid:random")."""

        def found() -> ServerProcess | None:
            [row] = self.sql("SELECT lease_owner FROM runs WHERE id = $1", run_id)
            owner = row["lease_owner"] or ""
            pid = int(owner.split(":")[1]) if owner.count(":") >= 2 else -1
            return next((p for p in self.alive if p.process is not None and p.process.pid == pid), None)

        return eventually_sync(found, what=f"nobody holds run {run_id}")

    def leader(self) -> ServerProcess | None:
        leading = []
        for process in self.alive:
            found = LEADER.search(httpx.get(f"{process.url}/metrics", timeout=10).text)
            if found is not None and float(found.group(1)) == 1.0:
                leading.append(process)
        assert len(leading) <= 1, "two processes lead at once"
        return leading[0] if leading else None


@pytest.fixture
def crashes(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[Crashes]:
    with fresh_pg_database("talkative_crash") as url:
        # As docs/deploy.md advises: a process frozen inside a transaction would keep its rows
        # locked (and live events held back) until the database ends its session.
        name = url.rsplit("/", 1)[1]
        asyncio.run(_pg_admin(f"ALTER DATABASE \"{name}\" SET idle_in_transaction_session_timeout = '5s'"))
        made = Crashes(url, tmp_path, fake_openai)
        try:
            yield made
        finally:
            for process in made.processes:
                if process.process is not None and process.process.poll() is None:
                    os.killpg(process.process.pid, signal.SIGCONT)
                process.stop()


def _start_task(http: httpx.Client, text: str) -> str:
    accepted = http.post(
        "/orchestrator/commands", json={"agent_id": "crash", "type": "start_task", "payload": {"text": text}}
    )
    assert accepted.status_code == 202, accepted.text
    run_id: str = accepted.json()["run_id"]
    return run_id


def _run(process: ServerProcess, run_id: str) -> Json:
    response = httpx.get(f"{process.url}/orchestrator/runs/{run_id}", headers=OPERATOR, timeout=10)
    assert response.status_code == 200, response.text
    run: Json = response.json()
    return run


def _settles(crashes: Crashes, run_id: str, status: str) -> Json:
    def settled() -> Json | None:
        run = _run(crashes.alive[0], run_id)
        return run if run["status"] == status else None

    return eventually_sync(settled, what=f"run {run_id} never became {status}")


def test_three_processes_lose_and_repeat_nothing_through_crashes(
    crashes: Crashes, fake_openai: FakeOpenAI
) -> None:
    crashes.start(3)  # all at once, on an empty database
    gate = crashes.shared / "acme" / "crash"
    acknowledged: list[str] = []

    def through(n: int) -> httpx.Client:
        return httpx.Client(base_url=crashes.alive[n % len(crashes.alive)].url, headers=OPERATOR, timeout=60)

    with ReconnectingReader([p.url for p in crashes.processes]) as reader:
        with through(0) as http:
            running_agent_sync(http, "crash")
            write_gated_skill(gate, "gate-a", "alpha")
            assert http.post("/agents/crash/skills/attach", json={"skillName": "gate-a"}).status_code == 200
        for n in range(6):  # ordinary messages through every process
            with through(n) as http:
                reply = http.post(
                    "/agents/crash/message", json={"message": "collect invoices then pay supplier"}
                )
                assert reply.status_code == 200, reply.text
                acknowledged.append(reply.json()["run_id"])

        # 1. kill -9 the process running a tool step: another takes the step over.
        with through(1) as http:
            killed_run = _start_task(http, "alpha")
        acknowledged.append(killed_run)
        eventually_sync(lambda: (gate / "outputs/gate-a-1.alive").exists(), what="the step never started")
        crashes.holder(killed_run).stop(signal.SIGKILL)
        eventually_sync(
            lambda: (gate / "outputs/gate-a-2.alive").exists(), what="the step was never taken over"
        )
        (gate / "inputs/go-2").write_text("")
        _settles(crashes, killed_run, "completed")

        # 2. cancel through another process than the one running the tool: the tool stops long
        # before any lease renewal would have noticed (the cancel crosses over the bus).
        with through(0) as http:
            cancelled_run = _start_task(http, "alpha")
        acknowledged.append(cancelled_run)
        eventually_sync(lambda: (gate / "outputs/gate-a-3.alive").exists(), what="the step never started")
        runner = crashes.holder(cancelled_run)
        other = next(p for p in crashes.alive if p is not runner)
        cancel = httpx.post(
            f"{other.url}/orchestrator/runs/{cancelled_run}/cancel", headers=OPERATOR, timeout=10
        )
        assert cancel.status_code == 200, cancel.text
        eventually_sync(lambda: released(gate / "outputs/gate-a-3.alive"), what="the cancelled tool lived on")
        _settles(crashes, cancelled_run, "cancelled")

        # 3. freeze the worker past its lease: another re-runs the step; the frozen one, woken,
        # kills its tool and writes nothing.
        with through(2) as http:
            frozen_run = _start_task(http, "alpha")
        acknowledged.append(frozen_run)
        eventually_sync(lambda: (gate / "outputs/gate-a-4.alive").exists(), what="the step never started")
        frozen = crashes.holder(frozen_run)
        assert frozen.process is not None
        os.killpg(frozen.process.pid, signal.SIGSTOP)
        crashes.frozen = frozen
        eventually_sync(
            lambda: (gate / "outputs/gate-a-5.alive").exists(), what="the step was never taken over"
        )
        (gate / "inputs/go-5").write_text("")
        _settles(crashes, frozen_run, "completed")
        os.killpg(frozen.process.pid, signal.SIGCONT)
        crashes.frozen = None
        eventually_sync(lambda: released(gate / "outputs/gate-a-4.alive"), what="the stale tool lived on")

        # 4. kill -9 the process waiting on a model call: the run fails and its hold is released.
        answer = threading.Event()
        fake_openai.reply = Reply(content=answer_json(["Check the inbox"]), gate=answer)
        assert (
            httpx.put(
                f"{crashes.alive[0].url}/router/admin/rules", json=REMOTE_RULES, headers=ADMIN, timeout=10
            ).status_code
            == 200
        )
        planner = crashes.alive[-1]
        with ThreadPoolExecutor(1) as pool:
            sent = pool.submit(
                httpx.post,
                f"{planner.url}/agents/crash/message",
                json={"message": "check the inbox"},
                headers=OPERATOR,
                timeout=120,
            )
            eventually_sync(lambda: fake_openai.count == 1, what="the model was never called")
            [row] = crashes.sql("SELECT run_id FROM usage_ledger WHERE status = 'reserved'")
            model_run = row["run_id"]
            planner.stop(signal.SIGKILL)
            with pytest.raises(httpx.HTTPError):
                sent.result()
        answer.set()
        failed = _settles(crashes, model_run, "failed")
        assert failed["last_error"] == PLANNER_STOPPED
        acknowledged.append(model_run)  # the message was never answered, but its run exists

        # 5. kill the leader: another process takes the lead.
        crashes.start(1)  # two alive again besides the leader-to-be-killed
        leader = eventually_sync(crashes.leader, what="no process leads")
        leader.stop(signal.SIGKILL)
        eventually_sync(
            lambda: (found := crashes.leader()) is not None and found is not leader, what="nobody took over"
        )

        # The audit, through a process still alive.
        survivor = crashes.alive[0]
        runs = httpx.get(
            f"{survivor.url}/orchestrator/runs",
            params={"agent_id": "crash", "limit": 100},
            headers=OPERATOR,
            timeout=10,
        ).json()["runs"]
        stored = {row["id"] for row in crashes.sql("SELECT id FROM events WHERE tenant_id = 'acme'")}
        eventually_sync(
            lambda: reader.error is not None or stored <= set(reader.ids),
            what=lambda: (
                f"{len(stored - set(reader.ids))} of {len(stored)} events never reached the subscriber"
            ),
        )
    assert reader.error is None, reader.error
    assert sorted(r["run_id"] for r in runs) == sorted(acknowledged), "a run was lost or duplicated"
    assert {r["status"] for r in runs} <= SETTLED, runs
    finished = Counter(
        row["run_id"]
        for row in crashes.sql(
            "SELECT run_id FROM events WHERE type = 'TOOL_RUN_FINISHED' AND tenant_id = 'acme'"
        )
    )
    assert finished == Counter({killed_run: 1, frozen_run: 1, cancelled_run: 1}), finished
    assert crashes.sql("SELECT id FROM usage_ledger WHERE status = 'reserved'") == []
    assert len(reader.ids) == len(set(reader.ids)), "an event was delivered twice"
    # The gated skill logs its work only when the test lets it finish: once per completed step.
    assert sorted((gate / "outputs/executions.log").read_text().split("\n")) == ["", "gate-a 2", "gate-a 5"]
