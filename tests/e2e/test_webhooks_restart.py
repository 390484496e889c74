"""Webhook deliveries survive a server crash mid-retry: the restarted server resumes from each
subscription's stored cursor and the receiver gets every event (at least once, each with its id)."""

from __future__ import annotations

import json
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
from tests.waiting import eventually_sync
from tests.webhooks.receiver import receiving

pytestmark = pytest.mark.e2e
RUNS = 3


def _env(database_url: str) -> dict[str, str]:
    return {
        "AUTH_JWT_SECRET": TEST_SECRET,
        "TALKATIVE_DATABASE_URL": database_url,
        "TALKATIVE_WEBHOOKS_ALLOW_PRIVATE": "127.0.0.1",
        "TALKATIVE_WEBHOOKS_POLL_S": "0.1",
        "TALKATIVE_WEBHOOKS_BACKOFF_BASE_S": "0.1",
        "TALKATIVE_WEBHOOKS_BACKOFF_CAP_S": "0.5",
        "TALKATIVE_CLUSTER_POLL_S": "0.5",
        "TALKATIVE_LOG_LEVEL": "DEBUG",
    }


def test_deliveries_survive_a_crash_mid_retry(tmp_path: Path, empty_database: str) -> None:
    token = mint_token(
        secret=TEST_SECRET, sub="ops", role=Role.ADMIN, tenant_id="acme", ttl=timedelta(hours=1)
    )
    headers = {"Authorization": f"Bearer {token}"}
    data_dir = tmp_path / "data"
    with receiving(status=500) as receiver:
        first = ServerProcess(data_dir=data_dir, env=_env(empty_database)).start()
        try:
            with httpx.Client(base_url=first.url, headers=headers, timeout=30) as http:
                running_agent_sync(http, "helper")
                created = http.post("/webhooks", json={"url": receiver.url, "event_types": ["RUN_COMPLETED"]})
                assert created.status_code == 201, created.text
                hook = created.json()
                runs = []
                for n in range(RUNS):
                    reply = http.post("/agents/helper/message", json={"message": f"hello {n}"}).json()
                    assert reply["run_status"] == "completed", reply
                    runs.append(reply["run_id"])
            eventually_sync(lambda: len(receiver.requests()) >= 2, what="the first server never retried")
            first.stop(signal.SIGKILL)  # mid-retry: the first event's delivery is pending
        finally:
            first.stop()
        assert not receiver.accepted()
        receiver.status = 200
        second = ServerProcess(data_dir=data_dir, env=_env(empty_database)).start()
        try:
            eventually_sync(
                lambda: {json.loads(r.body)["run_id"] for r in receiver.accepted()} >= set(runs),
                what=lambda: f"not every run arrived after the restart: {len(receiver.requests())} requests",
            )
            with httpx.Client(base_url=second.url, headers=headers, timeout=30) as http:

                def settled() -> list[dict[str, object]] | None:
                    rows: list[dict[str, object]] = http.get(f"/webhooks/{hook['id']}/deliveries").json()[
                        "deliveries"
                    ]
                    return (
                        rows if len(rows) == RUNS and all(d["status"] == "delivered" for d in rows) else None
                    )

                deliveries = eventually_sync(
                    settled, what="the delivery log never showed every run delivered"
                )
                listed = http.get(f"/webhooks/{hook['id']}").text
        finally:
            second.stop()
        accepted = receiver.accepted()
        logs = first.output() + second.output()
    documents = [json.loads(r.body) for r in accepted]
    ids = {r.headers["talkative-webhook-id"] for r in accepted}
    # Every event delivered, each under its own stable id; repeats only of the same id (at least once).
    assert list(dict.fromkeys(d["run_id"] for d in documents)) == runs  # every run, in order
    assert ids == {f"{hook['id']}.{d['id']}" for d in documents} and len(ids) == RUNS
    assert {d["delivery_id"] for d in deliveries} == ids
    first_ids = {r.headers["talkative-webhook-id"] for r in receiver.requests() if r.status == 500}
    assert len(first_ids) == 1 and first_ids <= ids  # in order: only the first event was being tried
    assert hook["secret"] not in logs and hook["secret"] not in listed
