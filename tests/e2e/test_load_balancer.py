"""Three server processes on one PostgreSQL behind Debian's nginx, configured as shipped
(deploy/nginx/talkative.conf): the critical loop, SSE with resume, approvals and a kill -9 of a
process, all through the load balancer, with no sticky sessions."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import TEST_SECRET, fresh_pg_database
from tests.e2e.nginx import Nginx
from tests.e2e.server import ServerProcess
from tests.e2e.sse import SseCollector
from tests.factories.agents import running_agent_sync
from tests.waiting import eventually_sync

PROCESSES = 3


def _token(sub: str = "operator-1") -> str:
    return mint_token(
        secret=TEST_SECRET, sub=sub, role=Role.OPERATOR, tenant_id="acme", ttl=timedelta(hours=1)
    )


@pytest.fixture
def balanced(tmp_path: Path) -> Iterator[tuple[Nginx, list[ServerProcess]]]:
    with fresh_pg_database("talkative_lb") as url:
        env = {
            "AUTH_JWT_SECRET": TEST_SECRET,
            "TALKATIVE_DATABASE_URL": url,
            "TALKATIVE_WORKSPACES_DIR": str(tmp_path / "shared-workspaces"),
            "TALKATIVE_SSE_KEEPALIVE_S": "0.5",
            "TALKATIVE_RUN_LEASE_S": "3",
        }
        servers: list[ServerProcess] = []
        proxy = None
        try:
            for n in range(PROCESSES):
                (tmp_path / f"server{n}").mkdir()
                servers.append(ServerProcess(data_dir=tmp_path / f"server{n}" / "data", env=env).start())
            proxy = Nginx(tmp_path / "nginx", [s.port for s in servers]).start()
            yield proxy, servers
        finally:
            if proxy is not None:
                proxy.stop()
            for server in servers:
                server.stop()


def _run(http: httpx.Client, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = http.get(f"/orchestrator/runs/{run_id}").json()
    return run


def test_the_loop_streams_approvals_and_a_kill_through_the_load_balancer(
    balanced: tuple[Nginx, list[ServerProcess]],
) -> None:
    proxy, servers = balanced
    operator = _token()
    headers = {"Authorization": f"Bearer {operator}"}
    with httpx.Client(base_url=proxy.url, headers=headers, timeout=90) as http:
        # Requests land on every process (least_conn over fresh connections): each answers for all.
        assert {http.get("/health").status_code for _ in range(6)} == {200}
        running_agent_sync(http, "desk", template="mail-triage")

        # The critical loop, watched live through nginx.
        with SseCollector(proxy.url, operator) as stream:
            reply = http.post("/agents/desk/message", json={"message": "triage inbox now"}).json()
            assert reply["run_status"] == "completed", reply
            stream.wait_for(
                lambda ev: any(
                    e["type"] == "TOOL_RUN_FINISHED" and e["run_id"] == reply["run_id"] for e in ev
                )
            )
            resume_after = stream.positions[-1]
        assert http.get("/agents/desk/workflow").json()["version"] >= 1

        # Offline, then resumed through nginx (to whichever process): nothing missed.
        missed = [
            http.post("/agents/desk/message", json={"message": f"collect invoices {i}"}).json()["run_id"]
            for i in range(4)
        ]
        with SseCollector(proxy.url, operator, last_event_id=resume_after) as resumed:
            resumed.wait_for(
                lambda ev: {e["run_id"] for e in ev if e["type"] == "RUN_COMPLETED"} >= set(missed)
            )
        assert len(resumed.ids) == len(set(resumed.ids))

        # An approval asked on one process, decided through another, the run finished by a third.
        gated = http.post(
            "/agents/desk/message", json={"message": "triage my inbox then transfer funds to supplier"}
        ).json()
        assert gated["run_status"] == "waiting_approval", gated
        gate = next(a for a in gated["actions"] if a["type"] == "human_approval_required")
        with httpx.Client(
            base_url=proxy.url, headers={"Authorization": f"Bearer {_token('operator-2')}"}
        ) as other:
            decided = other.post(
                f"/approvals/{gate['detail']['approval_id']}/decision", json={"decision": "approved"}
            )
        assert decided.status_code == 200, decided.text
        eventually_sync(
            lambda: _run(http, gated["run_id"])["status"] == "completed", what="approved run never completed"
        )

        # kill -9 one process: nginx sends the next requests to the others.
        servers[0].stop(signal.SIGKILL)
        replies = [http.post("/agents/desk/message", json={"message": "triage inbox now"}) for _ in range(6)]
        assert [r.status_code for r in replies] == [200] * 6, [r.text for r in replies]
        assert {r.json()["run_status"] for r in replies} == {"completed"}
        started = [reply["run_id"], *missed, gated["run_id"], *(r.json()["run_id"] for r in replies)]
        listed = http.get("/orchestrator/runs", params={"agent_id": "desk", "limit": 100}).json()["runs"]
        assert sorted(r["run_id"] for r in listed) == sorted(started)  # each acknowledged run, once
        assert {r["status"] for r in listed} == {"completed"}
