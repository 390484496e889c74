"""The orchestrator API: contracts, commands (start_task, control, request_delegate), runs, external events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.factories.agents import running_agent
from tests.factories.runs import finished, get_run, start_task, wait_run, waiting_run

Auth = Callable[..., dict[str, str]]
Json = dict[str, Any]
PLAIN = "collect invoices then pay supplier"


async def _command(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/orchestrator/commands", json=body, headers=headers)


def _history(run: Json) -> list[tuple[str, str]]:
    return [(r["type"], r["name"]) for r in run["steps"]]


def _error(response: httpx.Response, status: int, code: str) -> Json:
    assert response.status_code == status, response.text
    body: Json = response.json()
    assert body["code"] == code and body["error"], body
    return body


async def test_contracts_list_every_set(client: httpx.AsyncClient, auth: Auth) -> None:
    response = await client.get("/orchestrator/contracts", headers=auth("viewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(body["commands"]) == sorted(["start_task", "pause", "resume", "cancel", "request_delegate"])
    assert sorted(body["events"]) == sorted(
        ["state_changed", "tool_started", "tool_finished", "metric_recorded", "error_compacted"]
    )
    assert sorted(body["run_statuses"]) == sorted(
        ["pending", "running", "paused", "waiting_approval", "cancelled", "failed", "completed", "rejected"]
    )
    assert "heartbeat" in body["run_kinds"] and "delegated" in body["run_kinds"]
    assert sorted(body["subagent_states"]) == sorted(["idle", "running", "paused", "stopped", "error"])
    assert (await client.get("/orchestrator/contracts")).status_code == 401


async def test_start_task_runs_to_completion(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "worker")
    accepted = await start_task(client, auth(), "worker", PLAIN)
    assert accepted["command_id"].startswith("cmd_") and accepted["parent_run_id"] is None
    run = await wait_run(client, auth("viewer"), accepted["run_id"], finished)
    assert (run["status"], run["agent_id"], run["tenant_id"]) == ("completed", "worker", "tenant-a")
    assert (run["kind"], run["input"], run["parent_run_id"]) == ("task", PLAIN, None)
    assert run["reply"] and run["finished_at"] is not None and run["allowed_actions"] == []
    history = _history(run)
    assert ("command", "start_task") in history and ("event", "MESSAGE_RECEIVED") in history
    command = next(r for r in run["steps"] if r["name"] == "start_task")
    assert command["payload"] == {"text": PLAIN, "actor": "tester"}
    events = [name for kind, name in history if kind == "event"]
    assert events[0] == "MESSAGE_RECEIVED" and events[-1] == "RUN_COMPLETED", events


async def test_command_validation(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "worker")
    unknown = await _command(client, auth(), agent_id="worker", type="self_destruct")
    _error(unknown, 422, "VALIDATION_ERROR")
    for payload in ({}, {"text": "   "}, {"text": 42}):
        response = await _command(client, auth(), agent_id="worker", type="start_task", payload=payload)
        _error(response, 422, "VALIDATION_ERROR")
    for kind in ("pause", "resume", "cancel"):
        body = _error(await _command(client, auth(), agent_id="worker", type=kind), 422, "VALIDATION_ERROR")
        assert "run_id" in body["error"], body
    runs = (await client.get("/orchestrator/runs", headers=auth())).json()["runs"]
    assert runs == [], "a refused command must not open a run"


async def test_command_tenancy_and_roles(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "worker")
    await running_agent(client, auth("operator", "tenant-b"), "stranger")
    task = {"type": "start_task", "payload": {"text": PLAIN}}
    mismatch = await _command(client, auth(), tenant_id="tenant-b", agent_id="worker", **task)
    _error(mismatch, 403, "TENANT_MISMATCH")
    _error(await _command(client, auth(), agent_id="stranger", **task), 404, "AGENT_NOT_FOUND")
    _error(await _command(client, auth("viewer"), agent_id="worker", **task), 403, "ROLE_FORBIDDEN")
    assert (await client.get("/orchestrator/runs", headers=auth())).json()["runs"] == []


async def test_resume_of_completed_run_is_409(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "worker")
    run_id = (await start_task(client, auth(), "worker", PLAIN))["run_id"]
    await wait_run(client, auth("viewer"), run_id, finished)
    via_command = await _command(client, auth(), agent_id="worker", run_id=run_id, type="resume")
    assert "completed" in _error(via_command, 409, "INVALID_TRANSITION")["error"]
    via_route = await client.post(f"/orchestrator/runs/{run_id}/resume", headers=auth())
    assert "completed" in _error(via_route, 409, "INVALID_TRANSITION")["error"]
    run = await get_run(client, auth("viewer"), run_id)
    assert run["status"] == "completed"
    assert ("command", "resume") not in _history(run), "a refused command must not be recorded"


async def test_list_runs_filters_and_orders(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "one")
    await running_agent(client, auth(), "two")
    mine = [(await start_task(client, auth(), "one", f"task {i}"))["run_id"] for i in range(3)]
    other = (await start_task(client, auth(), "two", PLAIN))["run_id"]
    listed = (await client.get("/orchestrator/runs", params={"agent_id": "one"}, headers=auth())).json()
    assert [r["run_id"] for r in listed["runs"]] == mine
    assert {r["agent_id"] for r in listed["runs"]} == {"one"}
    params: dict[str, str | int] = {"agent_id": "one", "limit": 2}
    limited = (await client.get("/orchestrator/runs", params=params, headers=auth())).json()
    assert [r["run_id"] for r in limited["runs"]] == mine[1:], "limit keeps the newest, newest last"
    everything = (await client.get("/orchestrator/runs", headers=auth())).json()["runs"]
    assert [r["run_id"] for r in everything] == [*mine, other]


async def test_list_runs_by_status(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "worker")
    done = (await start_task(client, auth(), "worker", PLAIN))["run_id"]
    await wait_run(client, auth("viewer"), done, finished)
    waiting = await waiting_run(client, auth(), "worker")

    async def listed(status: str) -> list[str]:
        params = {"status": status}
        response = await client.get("/orchestrator/runs", params=params, headers=auth("viewer"))
        assert response.status_code == 200, response.text
        return [r["run_id"] for r in response.json()["runs"]]

    assert await listed("waiting_approval") == [waiting]
    assert await listed("completed") == [done]
    assert await listed("failed") == []


async def test_another_tenants_run_is_hidden(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "worker")
    run_id = (await start_task(client, auth(), "worker", PLAIN))["run_id"]
    outsider = auth("admin", "tenant-b")
    _error(await client.get(f"/orchestrator/runs/{run_id}", headers=outsider), 404, "RUN_NOT_FOUND")
    assert (await client.get("/orchestrator/runs", headers=outsider)).json()["runs"] == []
    _error(await client.post(f"/orchestrator/runs/{run_id}/cancel", headers=outsider), 404, "RUN_NOT_FOUND")
    platform = (await client.get("/orchestrator/runs", headers=auth("admin", None))).json()["runs"]
    assert [r["run_id"] for r in platform] == [run_id]
    # A platform admin narrows the list by tenant; a tenant's caller cannot widen it.
    by_tenant = {"tenant_id": "tenant-b"}
    assert (await client.get("/orchestrator/runs", params=by_tenant, headers=auth("admin", None))).json()[
        "runs"
    ] == []
    narrowed = await client.get(
        "/orchestrator/runs", params={"tenant_id": "tenant-a"}, headers=auth("admin", None)
    )
    assert [r["run_id"] for r in narrowed.json()["runs"]] == [run_id]
    _error(await client.get("/orchestrator/runs", params=by_tenant, headers=auth()), 403, "TENANT_MISMATCH")


async def test_error_compacted_fails_a_waiting_run(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "payer")
    run_id = await waiting_run(client, auth(), "payer")
    body = {"agent_id": "payer", "run_id": run_id, "type": "error_compacted", "message": "disk full"}
    response = await client.post("/orchestrator/events", json=body, headers=auth())
    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["last_error"]) == ("failed", "disk full")
    run = await get_run(client, auth("viewer"), run_id)
    assert (run["status"], run["subagent_state"], run["last_error"]) == ("failed", "error", "disk full")
    history = _history(run)
    assert ("event", "EXTERNAL_ERROR_COMPACTED") in history and ("event", "RUN_FAILED") in history
    compacted = next(r for r in run["steps"] if r["name"] == "EXTERNAL_ERROR_COMPACTED")
    assert compacted["payload"]["type"] == "error_compacted"


async def test_informational_events_keep_the_status(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "payer")
    run_id = await waiting_run(client, auth(), "payer")
    for kind in ("tool_finished", "metric_recorded"):
        body = {"agent_id": "payer", "run_id": run_id, "type": kind, "payload": {"n": 1}}
        response = await client.post("/orchestrator/events", json=body, headers=auth())
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "waiting_approval"
    run = await get_run(client, auth("viewer"), run_id)
    assert (run["status"], run["last_error"]) == ("waiting_approval", None)
    names = [name for _, name in _history(run)]
    assert names.count("EXTERNAL_TOOL_FINISHED") == 1 and names.count("EXTERNAL_METRIC_RECORDED") == 1
    metric = next(r for r in run["steps"] if r["name"] == "EXTERNAL_METRIC_RECORDED")
    assert metric["payload"] == {"type": "metric_recorded", "n": 1}
    unknown = {"agent_id": "payer", "run_id": run_id, "type": "exploded"}
    _error(await client.post("/orchestrator/events", json=unknown, headers=auth()), 422, "VALIDATION_ERROR")
    assert len((await get_run(client, auth("viewer"), run_id))["steps"]) == len(run["steps"])


async def test_request_delegate_runs_a_child(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "boss")
    await running_agent(client, auth(), "helper")
    payload = {"target_agent_id": "helper", "text": PLAIN}
    response = await _command(client, auth(), agent_id="boss", type="request_delegate", payload=payload)
    assert response.status_code == 202, response.text
    parent_id = response.json()["parent_run_id"]
    assert parent_id and response.json()["run_id"] == parent_id
    parent = await wait_run(client, auth("viewer"), parent_id, finished)
    assert (parent["status"], parent["agent_id"], parent["kind"]) == ("completed", "boss", "delegate")
    delegates = [s for s in parent["plan"] if s["kind"] == "delegate"]
    assert len(delegates) == 1 and delegates[0]["status"] == "done", parent["plan"]
    result = delegates[0]["result"]
    assert result["status"] == "completed" and result["child_run_id"], result
    child = await get_run(client, auth("viewer"), result["child_run_id"])
    assert (child["parent_run_id"], child["agent_id"], child["status"]) == (parent_id, "helper", "completed")
    assert (child["kind"], child["input"]) == ("delegated", PLAIN)
    assert parent["children"] == [child["run_id"]] and child["children"] == []
    assert {"DELEGATION_STARTED", "DELEGATION_FINISHED"} <= {name for _, name in _history(parent)}


async def test_request_delegate_refusals(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "boss")
    await running_agent(client, auth(), "helper")
    await running_agent(client, auth("operator", "tenant-b"), "stranger")

    async def delegate(payload: Json) -> httpx.Response:
        return await _command(client, auth(), agent_id="boss", type="request_delegate", payload=payload)

    _error(await delegate({"target_agent_id": "stranger", "text": PLAIN}), 404, "AGENT_NOT_FOUND")
    _error(await delegate({"target_agent_id": "boss", "text": PLAIN}), 422, "VALIDATION_ERROR")
    _error(await delegate({"target_agent_id": "helper"}), 422, "VALIDATION_ERROR")
    _error(await delegate({"text": PLAIN}), 422, "VALIDATION_ERROR")
    assert (await client.get("/orchestrator/runs", headers=auth())).json()["runs"] == []
    other = (await client.get("/orchestrator/runs", headers=auth("viewer", "tenant-b"))).json()
    assert other["runs"] == [], "no child run may open in another tenant"


async def test_error_compacted_closes_the_pending_approval(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "payer")
    run_id = await waiting_run(client, auth(), "payer")
    body = {"agent_id": "payer", "run_id": run_id, "type": "error_compacted", "message": "disk full"}
    assert (await client.post("/orchestrator/events", json=body, headers=auth())).status_code == 202
    approvals = (await client.get("/approvals", params={"agent_id": "payer"}, headers=auth())).json()
    statuses = [a["status"] for a in approvals["approvals"] if a["run_id"] == run_id]
    assert len(statuses) == 1
    assert statuses != ["pending"], (
        "BUG: control.external_event(error_compacted) fails a waiting_approval run but leaves its "
        "approval 'pending' (and the gate step 'waiting'), unlike cancel, which closes both; the "
        "approval queue keeps a request that can never be decided (every decision is 409 RUN_NOT_WAITING)"
    )
