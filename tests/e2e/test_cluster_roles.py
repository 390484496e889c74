"""Real processes on one PostgreSQL, each with its own data dir: process roles (API, worker, both),
the elected leader and its takeover, the shared signing secret and the shared workspaces root."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from talkative.cluster.marker import MARKER_NAME
from tests.conftest import TEST_SECRET, fresh_pg_database
from tests.e2e.server import ServerProcess
from tests.factories.agents import running_agent_sync
from tests.observability.otlp_receiver import OtlpReceiver
from tests.waiting import eventually_sync

pytestmark = pytest.mark.e2e

LEADER_METRIC = re.compile(r"^talkative_leader (\S+)$", re.MULTILINE)


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_pg_database("talkative_cluster") as url:
        yield url


class Cluster:
    """Processes on one database, each with a data dir of its own, sharing a workspaces root."""

    def __init__(self, database: str, tmp_path: Path) -> None:
        self.database = database
        self.tmp_path = tmp_path
        self.shared = tmp_path / "shared-workspaces"
        self.started: list[ServerProcess] = []

    def process(self, name: str, *args: str, **env: str) -> ServerProcess:
        (self.tmp_path / name).mkdir()
        settings = {
            "TALKATIVE_DATABASE_URL": self.database,
            "TALKATIVE_WORKSPACES_DIR": str(self.shared),
            "AUTH_JWT_SECRET": TEST_SECRET,
            "TALKATIVE_CLUSTER_POLL_S": "0.5",  # followers try for the lead twice a second
            "TALKATIVE_HEARTBEAT_POLL_S": "0.2",
        }
        settings.update(env)
        process = ServerProcess(
            data_dir=self.tmp_path / name / "data",
            env={k: v for k, v in settings.items() if v},
            args=args or ("serve",),
        )
        self.started.append(process)
        return process

    def start(self, name: str, *args: str, **env: str) -> ServerProcess:
        return self.process(name, *args, **env).start()

    def refused(self, name: str, *args: str, **env: str) -> str:
        """Starts a process that must exit before serving; returns what it printed."""
        process = self.process(name, *args, **env)
        with pytest.raises(RuntimeError, match="exited early"):
            process.start()
        assert process.process is not None and process.process.returncode != 0
        return process.output()

    def sql(self, query: str, *args: object) -> list[asyncpg.Record]:
        dsn = self.database.replace("postgresql+asyncpg://", "postgresql://")

        async def run() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(dsn)
            try:
                return list(await conn.fetch(query, *args))
            finally:
                await conn.close()

        return asyncio.run(run())


@pytest.fixture
def cluster(database: str, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(database, tmp_path)
    try:
        yield made
    finally:
        for process in made.started:
            process.stop()


def _headers(role: str = "operator", tenant: str | None = "acme") -> dict[str, str]:
    jwt = mint_token(secret=TEST_SECRET, sub="e2e", role=Role(role), tenant_id=tenant, ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {jwt}"}


def _leads(process: ServerProcess) -> bool:
    found = LEADER_METRIC.search(httpx.get(f"{process.url}/metrics", timeout=5).text)
    assert found is not None, "no talkative_leader gauge"
    return float(found.group(1)) == 1.0


def _the_leader(processes: list[ServerProcess]) -> ServerProcess | None:
    leading = [p for p in processes if _leads(p)]
    assert len(leading) <= 1, "two processes lead at once"
    return leading[0] if leading else None


def _heartbeat_runs(http: httpx.Client, agent_id: str) -> int:
    runs = http.get("/orchestrator/runs", params={"agent_id": agent_id, "limit": 100}).json()["runs"]
    return sum(run["kind"] == "heartbeat" for run in runs)


def test_one_process_leads_and_another_takes_over_when_it_is_killed(cluster: Cluster) -> None:
    processes = [cluster.start("one"), cluster.start("two")]
    leader = eventually_sync(lambda: _the_leader(processes), what="no process took the lead")
    follower = next(p for p in processes if p is not leader)
    assert not _leads(follower)
    with httpx.Client(base_url=follower.url, headers=_headers(), timeout=30) as http:
        running_agent_sync(http, "pulse")

        def heartbeat_due() -> None:
            cluster.sql(
                "UPDATE agents SET next_heartbeat_at = now() - interval '1 minute' WHERE id = 'pulse'"
            )

        # One heartbeat run per due time, and the heartbeat scheduler runs in the leader only.
        heartbeat_due()
        eventually_sync(lambda: _heartbeat_runs(http, "pulse") == 1, what="the due heartbeat never ran")
        assert "this process leads" in leader.output()
        assert "this process leads" not in follower.output()
        assert "another process leads" in follower.output()

        leader.stop(signal.SIGKILL)  # its lock connection dies with it
        eventually_sync(lambda: _leads(follower), what="the follower never took over from the killed leader")
        heartbeat_due()
        eventually_sync(lambda: _heartbeat_runs(http, "pulse") == 2, what="the next due heartbeat never ran")
    assert "this process leads" in follower.output()


def test_a_process_signing_with_another_secret_is_refused(cluster: Cluster) -> None:
    # No AUTH_JWT_SECRET: each data dir generates a secret of its own.
    first = cluster.start("first", AUTH_JWT_SECRET="")
    output = cluster.refused("second", AUTH_JWT_SECRET="")
    assert "error: AUTH_JWT_SECRET" in output and "Every process of a cluster must share one secret" in output
    assert "Sign in as admin" not in output  # it refused before serving
    output = cluster.refused("third", "worker", AUTH_JWT_SECRET="")
    assert "error: AUTH_JWT_SECRET" in output
    assert httpx.get(f"{first.url}/health", timeout=5).status_code == 200
    assert [row["roles"] for row in cluster.sql("SELECT roles FROM processes")] == ["api,worker"]


def test_a_process_whose_workspaces_root_is_not_the_shared_one_is_refused(cluster: Cluster) -> None:
    cluster.start("first")
    assert (cluster.shared / MARKER_NAME).is_file()
    local = cluster.tmp_path / "local-workspaces"
    output = cluster.refused("second", TALKATIVE_WORKSPACES_DIR=str(local))
    assert (
        "error: TALKATIVE_WORKSPACES_DIR" in output and str(local) in output and "holds no marker" in output
    )


def test_an_api_process_and_a_worker_process_share_the_runs_and_the_workspaces(cluster: Cluster) -> None:
    """The API alone opens the run; the worker, with another data dir, runs its skill in the shared
    root; and stops cleanly on SIGTERM, leaving the registry."""
    api = cluster.start("api", "serve", "--no-worker")
    worker = cluster.process("worker", "worker")
    worker.env["TALKATIVE_WORKER_METRICS_PORT"] = str(worker.port)  # no API: its metrics alone
    worker.start()
    with httpx.Client(base_url=api.url, headers=_headers(), timeout=60) as http:
        running_agent_sync(http, "inbox-bot", template="mail-triage")
        reply = http.post("/agents/inbox-bot/message", json={"message": "triage inbox now"})
        assert reply.status_code == 200, reply.text
        assert reply.json()["run_status"] == "completed", reply.text
        events = http.get("/agents/inbox-bot/events", params={"tail": 50}).json()["events"]
    finished = [e for e in events if e["type"] == "TOOL_RUN_FINISHED"]
    assert [e["payload"]["ok"] for e in finished] == [True], finished
    assert (cluster.shared / "acme" / "inbox-bot" / "outputs" / "mail-triage.json").is_file()
    assert not (api.data_dir / "workspaces").exists() and not (worker.data_dir / "workspaces").exists()
    assert not _leads(api)  # the API alone never runs the singleton loops
    assert "this process leads" in worker.output() and _leads(worker)  # scraped on its metrics port
    assert sorted(row["roles"] for row in cluster.sql("SELECT roles FROM processes")) == ["api", "worker"]

    worker.stop(signal.SIGTERM)
    assert worker.process is not None and worker.process.returncode == 0, worker.output()
    assert "stopping: letting go of the runs in flight" in worker.output()
    assert [row["roles"] for row in cluster.sql("SELECT roles FROM processes")] == ["api"]


def test_a_trace_goes_from_the_api_process_to_the_worker_and_out_over_otlp(cluster: Cluster) -> None:
    """Both processes export to a local OTLP receiver; the worker's step and skill-run spans
    continue the trace of the API request that opened the run (stored with the run)."""
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    with OtlpReceiver() as receiver:
        exporting = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        api = cluster.start("api", "serve", "--no-worker", **exporting)
        worker = cluster.process("worker", "worker", **exporting)
        worker.env["TALKATIVE_WORKER_METRICS_PORT"] = str(worker.port)
        worker.start()
        with httpx.Client(base_url=api.url, headers=_headers(), timeout=60) as http:
            running_agent_sync(http, "traced-bot", template="mail-triage")
            caller = {"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}
            reply = http.post(
                "/agents/traced-bot/message", json={"message": "triage inbox now"}, headers=caller
            )
            assert reply.status_code == 200 and reply.json()["run_status"] == "completed", reply.text
        tool = eventually_sync(lambda: receiver.named("execute_tool mail-triage"), what="no skill run span")[
            0
        ]
        (request,) = eventually_sync(
            lambda: [s for s in receiver.named("POST /agents/{agent_id}/message") if s.trace_id == trace_id],
            what="no request span",
        )
        (step,) = [s for s in receiver.named("run.step tool") if s.trace_id == trace_id]
    assert tool.trace_id == request.trace_id == trace_id
    assert tool.parent_span_id == step.span_id
    assert request.service == step.service == "talkative"
    assert request.pid != step.pid  # two processes, one trace
    assert request.attributes["http.response.status_code"] == 200
