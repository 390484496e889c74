"""The release runbook's critical loop over real HTTP against a running server."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess
from tests.e2e.sse import SseCollector
from tests.factories.agents import running_agent_sync
from tests.waiting import eventually_sync

pytestmark = pytest.mark.e2e

LOOP_SEQUENCE = [
    "MESSAGE_RECEIVED",
    "INTERPRETATION_RESULT",
    "WORKFLOW_PATCH_PROPOSED",
    "WORKFLOW_PATCH_APPLIED",
    "TOOL_RUN_STARTED",
    "TOOL_RUN_FINISHED",
    "METRIC_RECORDED",
    "RUN_COMPLETED",
]


def token(role: str = "operator", tenant: str | None = "acme") -> str:
    return mint_token(
        secret=TEST_SECRET, sub="e2e", role=Role(role), tenant_id=tenant, ttl=timedelta(hours=1)
    )


def test_message_runs_the_skill_and_streams_every_event(server: ServerProcess) -> None:
    operator = token()
    headers = {"Authorization": f"Bearer {operator}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        created = http.post(
            "/agents", json={"id": "inbox-bot", "name": "Inbox bot", "template": "mail-triage"}
        )
        assert created.status_code == 201, created.text
        stopped = http.post("/agents/inbox-bot/message", json={"message": "triage inbox now"})
        assert stopped.status_code == 409 and stopped.json()["code"] == "AGENT_NOT_RUNNING"
        assert http.post("/agents/inbox-bot/start").json()["status"] == "running"
        before = http.get("/agents/inbox-bot/workflow").json()["version"]

        with SseCollector(server.url, operator, use_query_token=True) as stream:
            reply = http.post("/agents/inbox-bot/message", json={"message": "triage inbox now"})
            assert reply.status_code == 200, reply.text
            body = reply.json()
            run_id = body["run_id"]
            streamed = stream.wait_for(
                lambda events: sum(e.get("run_id") == run_id for e in events) >= len(LOOP_SEQUENCE)
            )

    assert body["agentId"] == "inbox-bot" and body["run_status"] == "completed"
    assert [t["name"] for t in body["interpretation"]["tasks"]] == ["Triage inbox now"]
    assert body["workflowPatch"]["operations"] and body["workflowPatch"]["version"] == before + 1
    executed = [a for a in body["actions"] if a["type"] == "tool.executed"]
    assert executed and executed[0]["skill"] == "mail-triage"
    assert [e["type"] for e in body["events"]] == LOOP_SEQUENCE
    assert all(e["run_id"] == run_id and e["tenant_id"] == "acme" for e in body["events"])

    stored = httpx.get(
        f"{server.url}/agents/inbox-bot/events", params={"tail": len(LOOP_SEQUENCE)}, headers=headers
    ).json()
    assert [e["type"] for e in stored["events"]] == LOOP_SEQUENCE
    assert [e["type"] for e in streamed if e.get("run_id") == run_id] == LOOP_SEQUENCE
    assert {"id", "type", "tenant_id", "agent_id", "run_id", "timestamp", "payload", "message"} <= set(
        streamed[-1]
    )

    envelope = json.loads(
        (server.data_dir / "workspaces" / "acme" / "inbox-bot" / "outputs" / "mail-triage.json").read_text()
    )
    assert envelope["ok"] is True and envelope["skillName"] == "mail-triage"
    assert {"generatedAt", "data"} <= set(envelope)

    workflow = httpx.get(f"{server.url}/agents/inbox-bot/workflow", headers=headers).json()
    assert workflow["version"] == before + 1
    assert "Triage inbox now" in [n["name"] for n in workflow["nodes"]]


def test_sse_resume_with_last_event_id_loses_nothing(server: ServerProcess) -> None:
    operator = token()
    headers = {"Authorization": f"Bearer {operator}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        running_agent_sync(http, "resumer")
        with SseCollector(server.url, operator) as first:
            http.post("/agents/resumer/message", json={"message": "step one"})
            first.wait_for(lambda ev: any(e["type"] == "WORKFLOW_PATCH_APPLIED" for e in ev))
            last_seen, last_position = first.ids[-1], first.positions[-1]
        # Disconnected: these happen while nobody listens.
        missed = [
            http.post("/agents/resumer/message", json={"message": f"offline {i}"}).json()["run_id"]
            for i in range(3)
        ]
        with SseCollector(server.url, operator, last_event_id=last_position) as second:
            replayed = second.wait_for(
                lambda ev: (
                    {e.get("run_id") for e in ev if e["type"] == "WORKFLOW_PATCH_APPLIED"} >= set(missed)
                )
            )
            ids = second.ids
    assert ids == sorted(ids) and len(ids) == len(set(ids)) and ids[0] > last_seen
    assert all(sum(e.get("run_id") == run for e in replayed) == 5 for run in missed)


def test_sse_is_tenant_scoped(server: ServerProcess) -> None:
    tenant_a, tenant_b = token(tenant="tenant-a"), token("viewer", tenant="tenant-b")
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {tenant_a}"}, timeout=30
    ) as http:
        running_agent_sync(http, "secretive")
        with SseCollector(server.url, tenant_b) as watcher_b, SseCollector(server.url, tenant_a) as watcher_a:
            http.post("/agents/secretive/message", json={"message": "a private matter"})
            watcher_a.wait_for(lambda ev: any(e["type"] == "WORKFLOW_PATCH_APPLIED" for e in ev))
            events_b = list(watcher_b.events)
    assert events_b == []
    assert ": keep-alive" in watcher_b.comments, "an idle stream still sends keep-alive comments"
    assert all(e["tenant_id"] == "tenant-a" for e in watcher_a.events)


def test_sse_needs_a_token(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/events", timeout=5)
    assert response.status_code == 401
    bad = httpx.get(f"{server.url}/events", params={"access_token": "nope"}, timeout=5)
    assert bad.status_code == 401


def test_second_process_on_the_same_database_sees_the_same_state(server: ServerProcess) -> None:
    """No state that matters lives only in process memory."""
    headers = {"Authorization": f"Bearer {token()}"}
    twin = ServerProcess(data_dir=server.data_dir, env={"AUTH_JWT_SECRET": TEST_SECRET}).start()
    try:
        httpx.post(f"{server.url}/agents", json={"id": "shared", "name": "Shared"}, headers=headers)
        httpx.post(f"{twin.url}/agents/shared/start", headers=headers)
        reply = httpx.post(f"{twin.url}/agents/shared/message", json={"message": "a then b"}, headers=headers)
        assert reply.status_code == 200, reply.text
        seen = httpx.get(f"{server.url}/agents/shared/events", params={"tail": 20}, headers=headers).json()
        assert reply.json()["run_id"] in {e["run_id"] for e in seen["events"]}
        workflow = httpx.get(f"{server.url}/agents/shared/workflow", headers=headers).json()
        assert [n["name"] for n in workflow["nodes"]] == ["A", "B"]
        assert httpx.get(f"{server.url}/agents/shared", headers=headers).json()["status"] == "running"
    finally:
        twin.stop()


def test_approval_gate_against_the_real_server(server: ServerProcess) -> None:
    headers = {"Authorization": f"Bearer {token()}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        running_agent_sync(http, "payer", template="mail-triage")
        reply = http.post(
            "/agents/payer/message", json={"message": "triage my inbox then transfer funds to supplier"}
        )
        body = reply.json()
        assert body["run_status"] == "waiting_approval", body
        gate = next(a for a in body["actions"] if a["type"] == "human_approval_required")
        decided = http.post(
            f"/approvals/{gate['detail']['approval_id']}/decision", json={"decision": "approved"}
        )
        assert decided.status_code == 200 and decided.json()["decided_by"] == "e2e"

        def completed() -> dict[str, Any] | None:
            run: dict[str, Any] = http.get(f"/orchestrator/runs/{body['run_id']}").json()
            return run if run["status"] == "completed" else None

        run = eventually_sync(completed, what="the approved run never completed")
    names = [s["name"] for s in run["steps"]]
    assert names.index("APPROVAL_DECIDED") < names.index("TASK_EXECUTED") < names.index("RUN_COMPLETED")
