"""/approval-policy: admins of a tenant write it, everyone in the tenant reads it, other tenants
never see it, and a policy nobody could satisfy is refused."""

from __future__ import annotations

from typing import Any

import httpx

from tests.approvals.gates import set_policy
from tests.factories import Auth

POLICY: dict[str, Any] = {
    "stages": [
        {"roles": ["operator"], "required": 2, "deadline_s": 3600, "remind_before_s": 600},
        {"subjects": ["cfo"], "deadline_s": 7200},
    ],
    "on_deadline": "escalate",
}


async def test_admins_write_and_everyone_in_the_tenant_reads(client: httpx.AsyncClient, auth: Auth) -> None:
    missing = await client.get("/approval-policy", headers=auth("viewer"))
    assert missing.status_code == 404 and missing.json()["code"] == "APPROVAL_POLICY_NOT_FOUND"

    stored = await set_policy(client, auth, POLICY)
    assert (stored["tenant_id"], stored["updated_by"]) == ("tenant-a", "boss")
    assert stored["policy"]["stages"][0] == {
        "roles": ["operator"],
        "subjects": [],
        "required": 2,
        "deadline_s": 3600,
        "remind_before_s": 600,
    }
    for role in ("viewer", "operator", "admin"):
        read = await client.get("/approval-policy", headers=auth(role))
        assert read.status_code == 200 and read.json()["policy"] == stored["policy"], read.text

    for method in ("PUT", "DELETE"):
        refused = await client.request(
            method, "/approval-policy", json=POLICY if method == "PUT" else None, headers=auth("operator")
        )
        assert refused.status_code == 403 and refused.json()["code"] == "ROLE_FORBIDDEN", refused.text

    changed = await set_policy(client, auth, {"stages": [{"subjects": ["ana", "bob"], "required": 2}]})
    assert changed["policy"]["on_deadline"] == "reject"
    assert (await client.get("/approval-policy", headers=auth())).json()["policy"] == changed["policy"]

    removed = await client.delete("/approval-policy", headers=auth("admin"))
    assert removed.status_code == 204
    assert (await client.get("/approval-policy", headers=auth())).status_code == 404
    again = await client.delete("/approval-policy", headers=auth("admin"))
    assert again.status_code == 404


async def test_tenants_never_see_each_others_policy(client: httpx.AsyncClient, auth: Auth) -> None:
    await set_policy(client, auth, POLICY)
    other = await client.get("/approval-policy", headers=auth("admin", "tenant-b"))
    assert other.status_code == 404  # tenant-b has none of its own
    named = await client.get(
        "/approval-policy", params={"tenant_id": "tenant-a"}, headers=auth("admin", "tenant-b")
    )
    assert named.status_code == 403 and named.json()["code"] == "TENANT_MISMATCH"
    overwrite = await client.put(
        "/approval-policy",
        params={"tenant_id": "tenant-a"},
        json={"stages": [{"roles": ["admin"]}]},
        headers=auth("admin", "tenant-b"),
    )
    assert overwrite.status_code == 403
    removal = await client.delete(
        "/approval-policy", params={"tenant_id": "tenant-a"}, headers=auth("admin", "tenant-b")
    )
    assert removal.status_code == 403
    assert (await client.get("/approval-policy", headers=auth("viewer"))).json()["policy"]["stages"][1][
        "subjects"
    ] == ["cfo"]

    # The platform admin names the tenant.
    platform = await client.get(
        "/approval-policy", params={"tenant_id": "tenant-a"}, headers=auth("admin", None)
    )
    assert platform.status_code == 200 and platform.json()["tenant_id"] == "tenant-a"
    put_b = await client.put(
        "/approval-policy",
        params={"tenant_id": "tenant-b"},
        json={"stages": [{"roles": ["admin"]}]},
        headers=auth("admin", None),
    )
    assert put_b.status_code == 200 and put_b.json()["tenant_id"] == "tenant-b"
    assert (await client.get("/approval-policy", headers=auth("viewer", "tenant-b"))).json()["policy"][
        "stages"
    ] == [{"roles": ["admin"], "subjects": [], "required": 1, "deadline_s": None, "remind_before_s": None}]
    assert (await client.get("/approval-policy", headers=auth("viewer"))).json()["policy"][
        "on_deadline"
    ] == "escalate"


async def test_impossible_or_unbounded_policies_are_422(client: httpx.AsyncClient, auth: Auth) -> None:
    stage = {"roles": ["operator"]}
    bad: list[Any] = [
        {},
        {"stages": []},
        {"stages": [stage] * 6},
        {"stages": [{}]},  # nobody may approve
        {"stages": [{"roles": [], "subjects": []}]},
        {"stages": [{"subjects": ["ana"], "required": 2}]},  # two approvals, one approver
        {"stages": [{"roles": ["viewer"]}]},
        {"stages": [{"roles": ["operator", "operator"]}]},
        {"stages": [{"subjects": ["ana", "ana"]}]},
        {"stages": [{"subjects": [f"s{i}" for i in range(51)]}]},
        {"stages": [{"subjects": ["x" * 201]}]},
        {"stages": [{"subjects": [""]}]},
        {"stages": [{**stage, "required": 0}]},
        {"stages": [{**stage, "required": 11}]},
        {"stages": [{**stage, "deadline_s": 0}]},
        {"stages": [{**stage, "deadline_s": 10**9}]},
        {"stages": [{**stage, "remind_before_s": 60}]},  # a reminder without a deadline
        {"stages": [{**stage, "deadline_s": 60, "remind_before_s": 60}]},
        {"stages": [stage], "on_deadline": "escalate"},  # nowhere to escalate to
        {"stages": [stage, stage], "on_deadline": "escalate"},  # the first stage never ends
        {"stages": [stage], "on_deadline": "approve"},  # a deadline never approves
        {"stages": [stage], "tenant_id": "tenant-b"},
        {"stages": [{**stage, "extra": 1}]},
    ]
    for body in bad:
        response = await client.put("/approval-policy", json=body, headers=auth("admin"))
        assert response.status_code == 422, (body, response.text)
    assert (await client.get("/approval-policy", headers=auth())).status_code == 404
