"""kill -9 mid-run: after a restart the run continues from the first step not completed."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess
from tests.factories.agents import running_agent_sync
from tests.factories.skills import write_slow_skill
from tests.waiting import eventually_sync, released

pytestmark = pytest.mark.e2e
FAST_TAKEOVER = {
    "AUTH_JWT_SECRET": TEST_SECRET,
    "TALKATIVE_RUN_LEASE_S": "2",
    "TALKATIVE_WORKER_POLL_S": "0.2",
}


def test_sigkill_mid_run_then_restart_completes_each_step_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    token = mint_token(
        secret=TEST_SECRET, sub="ops", role=Role.OPERATOR, tenant_id="acme", ttl=timedelta(hours=1)
    )
    headers = {"Authorization": f"Bearer {token}"}
    first = ServerProcess(data_dir=data_dir, env=FAST_TAKEOVER).start()
    try:
        with httpx.Client(base_url=first.url, headers=headers, timeout=30) as http:
            running_agent_sync(http, "durable")
        workspace = data_dir / "workspaces" / "acme" / "durable"
        for name, trigger in (("slow-a", "alpha"), ("slow-b", "beta"), ("slow-c", "gamma")):
            write_slow_skill(workspace, name, trigger)
            pinned = httpx.post(
                f"{first.url}/agents/durable/skills/attach", json={"skillName": name}, headers=headers
            )
            assert pinned.status_code == 200, pinned.text
        (workspace / "inputs/sleep.txt").write_text("1.5")
        accepted = httpx.post(
            f"{first.url}/orchestrator/commands",
            json={
                "agent_id": "durable",
                "type": "start_task",
                "payload": {"text": "alpha then beta then gamma"},
            },
            headers=headers,
        )
        assert accepted.status_code == 202, accepted.text
        run_id = accepted.json()["run_id"]
        log = workspace / "outputs/executions.log"
        eventually_sync(
            lambda: log.exists() and (workspace / "outputs/slow-b.pid").exists(), what="step 2 never started"
        )
        first.stop(signal.SIGKILL)
    finally:
        first.stop()

    # Had the interrupted step's process outlived the server, it would finish its step on its own.
    eventually_sync(
        lambda: released(workspace / "outputs/slow-b.alive"), what="the interrupted step outlived its server"
    )
    assert log.read_text() == "slow-a\n", "the interrupted step must not complete on its own"
    second = ServerProcess(data_dir=data_dir, env=FAST_TAKEOVER).start()
    try:

        def finished() -> bool:
            run = httpx.get(f"{second.url}/orchestrator/runs/{run_id}", headers=headers).json()
            return run["status"] in ("completed", "rejected", "failed", "cancelled")

        eventually_sync(finished, what="the run never finished after the restart", timeout=60)
        run = httpx.get(f"{second.url}/orchestrator/runs/{run_id}", headers=headers).json()
    finally:
        second.stop()
    assert run["status"] == "completed", run
    assert log.read_text() == "slow-a\nslow-b\nslow-c\n"
    assert [(s["status"], s["attempts"]) for s in run["plan"]] == [("done", 1), ("done", 2), ("done", 1)]
