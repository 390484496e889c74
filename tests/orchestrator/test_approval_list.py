"""The approvals list: pending first, who ended each, its run and what its gate would let run."""

from __future__ import annotations

import httpx

from tests.factories import Auth, Json
from tests.factories.agents import running_agent

SENSITIVE = "triage my inbox then transfer funds to supplier"


async def _manual(client: httpx.AsyncClient, auth: Auth, reason: str) -> str:
    created = await client.post("/approvals", json={"agent_id": "mailer", "reason": reason}, headers=auth())
    assert created.status_code == 201, created.text
    approval_id: str = created.json()["id"]
    return approval_id


async def _decide(client: httpx.AsyncClient, auth: Auth, approval_id: str, decision: str, sub: str) -> Json:
    decided = await client.post(
        f"/approvals/{approval_id}/decision",
        json={"decision": decision, "note": f"{sub} says {decision}"},
        headers=auth(sub=sub),
    )
    assert decided.status_code == 200, decided.text
    body: Json = decided.json()
    return body


async def _setup(client: httpx.AsyncClient, auth: Auth) -> dict[str, str]:
    await running_agent(client, auth(), "mailer", template="mail-triage")
    reply = (await client.post("/agents/mailer/message", json={"message": SENSITIVE}, headers=auth())).json()
    assert reply["run_status"] == "waiting_approval", reply
    gated = next(a for a in reply["actions"] if a["type"] == "human_approval_required")["detail"][
        "approval_id"
    ]
    ids = {"gated": gated, "run": reply["run_id"]}
    for name in ("approved", "rejected", "waiting"):
        ids[name] = await _manual(client, auth, f"manual {name}")
    await _decide(client, auth, ids["approved"], "approved", "ana")
    await _decide(client, auth, ids["rejected"], "rejected", "bea")
    return ids


async def _listed(client: httpx.AsyncClient, headers: dict[str, str], **params: str | int) -> Json:
    response = await client.get("/approvals", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: Json = response.json()
    return page


async def test_pending_first_then_ended_with_who_and_what(client: httpx.AsyncClient, auth: Auth) -> None:
    ids = await _setup(client, auth)
    page = await _listed(client, auth("viewer"))
    order = [a["id"] for a in page["approvals"]]
    assert order == [ids["waiting"], ids["gated"], ids["rejected"], ids["approved"]]
    assert not page["has_more"] and page["next_before"] is None
    by_id = {a["id"]: a for a in page["approvals"]}
    approved, rejected = by_id[ids["approved"]], by_id[ids["rejected"]]
    assert (approved["status"], approved["decided_by"], approved["note"]) == (
        "approved",
        "ana",
        "ana says approved",
    )
    assert (rejected["status"], rejected["decided_by"]) == ("rejected", "bea")
    assert rejected["decided_at"] is not None and by_id[ids["waiting"]]["decided_by"] is None

    gated = by_id[ids["gated"]]
    assert gated["run"] == {
        "run_id": ids["run"],
        "agent_id": "mailer",
        "kind": "message",
        "status": "waiting_approval",
        "input": SENSITIVE,
    }
    gate = gated["gate"]
    assert (gate["idx"], gate["status"]) == (gated["step"], "waiting") and "transfer" in gate["task"].lower()
    (guarded,) = gate["guards"]
    assert (guarded["kind"], guarded["status"]) == ("task", "pending") and "transfer" in guarded[
        "task"
    ].lower()
    assert by_id[ids["approved"]]["run"] is None and by_id[ids["approved"]]["gate"] is None

    # Cancelling the run cancels its approval, in the cancelling operator's name.
    cancelled = await client.post(f"/orchestrator/runs/{ids['run']}/cancel", headers=auth(sub="cy"))
    assert cancelled.status_code == 200, cancelled.text
    ended = await _listed(client, auth(), status="cancelled")
    (only,) = ended["approvals"]
    assert (only["id"], only["decided_by"], only["run"]["status"]) == (ids["gated"], "cy", "cancelled")
    assert only["gate"]["guards"][0]["status"] == "cancelled"


async def test_pages_follow_the_same_order(client: httpx.AsyncClient, auth: Auth) -> None:
    ids = await _setup(client, auth)
    whole = [a["id"] for a in (await _listed(client, auth()))["approvals"]]
    seen: list[str] = []
    page = await _listed(client, auth(), limit=1)
    while True:
        seen += [a["id"] for a in page["approvals"]]
        if not page["has_more"]:
            break
        page = await _listed(client, auth(), limit=1, before=page["next_before"])
    assert seen == whole and len(seen) == 4
    two = await _listed(client, auth(), status="pending", limit=1)
    assert [a["id"] for a in two["approvals"]] == [ids["waiting"]] and two["has_more"]
    rest = await _listed(client, auth(), status="pending", before=two["next_before"])
    assert [a["id"] for a in rest["approvals"]] == [ids["gated"]] and not rest["has_more"]
    mine = await _listed(client, auth(), run_id=ids["run"])
    assert [a["id"] for a in mine["approvals"]] == [ids["gated"]]


async def test_tenancy_and_roles(client: httpx.AsyncClient, auth: Auth) -> None:
    ids = await _setup(client, auth)
    assert (await _listed(client, auth("viewer", "tenant-b")))["approvals"] == []
    assert (await _listed(client, auth("admin", None), tenant_id="tenant-b"))["approvals"] == []
    assert len((await _listed(client, auth("admin", None)))["approvals"]) == 4
    named = await client.get(
        "/approvals", params={"tenant_id": "tenant-a"}, headers=auth("viewer", "tenant-b")
    )
    assert named.status_code == 403
    url = f"/approvals/{ids['waiting']}/decision"
    assert (await client.post(url, json={"decision": "approved"}, headers=auth("viewer"))).status_code == 403
    stranger = await client.post(url, json={"decision": "approved"}, headers=auth("operator", "tenant-b"))
    assert stranger.status_code == 404


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient, auth: Auth) -> None:
    for params in (
        {"status": "lapsed"},
        {"before": "garbage!"},
        {"before": "MXxub3QgYSB0aW1lfGlk"},  # "1|not a time|id"
        {"limit": 0},
        {"limit": 1001},
        {"run_id": ""},
    ):
        response = await client.get("/approvals", params=params, headers=auth())
        assert response.status_code == 422, (params, response.text)
