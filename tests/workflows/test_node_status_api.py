"""The workflow read API shows what ran: each node's status follows the steps that executed it,
with its latest runs (issue 17); a meta-request ("run heartbeat now") is no node."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import send_message, wait_run

GATED = "triage my inbox then transfer funds to supplier"


def _nodes(workflow: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    return {n["id"]: (n["status"], n["runIds"]) for n in workflow["nodes"]}


async def _workflow(client: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    agent_view = (await client.get("/agents/mailer/workflow", headers=auth("viewer"))).json()
    by_id = (await client.get(f"/workflow/{agent_view['id']}", headers=auth("viewer"))).json()
    assert _nodes(by_id) == _nodes(agent_view)
    return agent_view  # type: ignore[no-any-return]


async def test_node_status_follows_its_steps(client: httpx.AsyncClient, auth: Auth) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    first = await send_message(client, auth(), "mailer", GATED)
    assert first["run_status"] == "waiting_approval"
    run = first["run_id"]
    nodes = _nodes(await _workflow(client, auth))
    assert nodes == {
        "triage-my-inbox": ("done", [run]),
        "transfer-funds-to-supplier": ("active", [run]),  # waiting for a human
    }
    plan = (await client.get(f"/orchestrator/runs/{run}", headers=auth("viewer"))).json()["plan"]
    assert [(s["kind"], s["node_id"]) for s in plan] == [
        ("tool", "triage-my-inbox"),
        ("approval", "transfer-funds-to-supplier"),
        ("task", "transfer-funds-to-supplier"),
    ]
    gate = next(a for a in first["actions"] if a["type"] == "human_approval_required")
    decided = await client.post(
        f"/approvals/{gate['detail']['approval_id']}/decision", json={"decision": "rejected"}, headers=auth()
    )
    assert decided.status_code == 200, decided.text
    await wait_run(client, auth(), run, lambda r: r["status"] == "rejected")
    assert _nodes(await _workflow(client, auth))["transfer-funds-to-supplier"] == ("rejected", [run])

    second = await send_message(client, auth(), "mailer", GATED)
    cancel = {"agent_id": "mailer", "type": "cancel", "run_id": second["run_id"]}
    cancelled = await client.post("/orchestrator/commands", json=cancel, headers=auth())
    assert cancelled.status_code == 202, cancelled.text
    await wait_run(client, auth(), second["run_id"], lambda r: r["status"] == "cancelled")
    nodes = _nodes(await _workflow(client, auth))
    assert nodes["transfer-funds-to-supplier"] == ("cancelled", [second["run_id"], run])
    assert nodes["triage-my-inbox"] == ("done", [second["run_id"], run])


async def test_a_node_no_run_touched_keeps_its_status_and_a_meta_request_is_no_node(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = await send_message(client, auth(), "mailer", "plan the week, run heartbeat now")
    assert reply["run_status"] == "completed"
    workflow = await _workflow(client, auth)
    assert _nodes(workflow) == {"plan-the-week": ("pending", [])}
