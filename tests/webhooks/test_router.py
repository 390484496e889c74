"""/webhooks: who may subscribe, what is accepted, and the secret shown once (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.factories import Json

SETTINGS = {"TALKATIVE_WEBHOOKS_ALLOW_PRIVATE": "127.0.0.1", "TALKATIVE_WEBHOOKS_PER_TENANT": "3"}
Auth = Callable[..., dict[str, str]]
URL = "http://127.0.0.1:9/hook"


async def subscribe(client: httpx.AsyncClient, headers: dict[str, str], **body: object) -> httpx.Response:
    return await client.post(
        "/webhooks", json={"url": URL, "event_types": ["RUN_COMPLETED"], **body}, headers=headers
    )


async def test_an_admin_subscribes_and_sees_the_secret_once(client: httpx.AsyncClient, auth: Auth) -> None:
    admin = auth("admin", "tenant-a")
    created = await subscribe(client, admin, event_types=["RUN_FAILED", "RUN_COMPLETED"], description="ops")
    assert created.status_code == 201, created.text
    hook: Json = created.json()
    assert hook["secret"].startswith("whsec_") and hook["tenant_id"] == "tenant-a"
    assert hook["event_types"] == ["RUN_COMPLETED", "RUN_FAILED"] and hook["created_by"] == "tester"
    listed = await client.get("/webhooks", headers=auth("viewer", "tenant-a"))
    one = await client.get(f"/webhooks/{hook['id']}", headers=auth("viewer", "tenant-a"))
    assert listed.status_code == one.status_code == 200
    assert [h["id"] for h in listed.json()["webhooks"]] == [hook["id"]]
    for answer in (listed, one):
        assert hook["secret"] not in answer.text and "secret" not in answer.text
    deliveries = await client.get(f"/webhooks/{hook['id']}/deliveries", headers=admin)
    assert deliveries.json() == {"deliveries": []}


async def test_viewers_and_operators_cannot_subscribe_or_delete(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    for role in ("viewer", "operator"):
        refused = await subscribe(client, auth(role, "tenant-a"))
        assert refused.status_code == 403, refused.text
    hook = (await subscribe(client, auth("admin", "tenant-a"))).json()
    refused = await client.delete(f"/webhooks/{hook['id']}", headers=auth("operator", "tenant-a"))
    assert refused.status_code == 403
    deleted = await client.delete(f"/webhooks/{hook['id']}", headers=auth("admin", "tenant-a"))
    assert deleted.status_code == 204
    gone = await client.get(f"/webhooks/{hook['id']}", headers=auth("admin", "tenant-a"))
    assert gone.status_code == 404


async def test_another_tenant_sees_nothing(client: httpx.AsyncClient, auth: Auth) -> None:
    hook = (await subscribe(client, auth("admin", "tenant-a"))).json()
    other = auth("admin", "tenant-b")
    assert (await client.get("/webhooks", headers=other)).json() == {"webhooks": []}
    for answer in (
        await client.get(f"/webhooks/{hook['id']}", headers=other),
        await client.get(f"/webhooks/{hook['id']}/deliveries", headers=other),
        await client.delete(f"/webhooks/{hook['id']}", headers=other),
    ):
        assert answer.status_code == 404, answer.text
    # The tenant comes from the token alone: a body that names one is refused.
    refused = await subscribe(client, other, tenant_id="tenant-a")
    assert refused.status_code == 422


async def test_bounded_input(client: httpx.AsyncClient, auth: Auth) -> None:
    admin = auth("admin", "tenant-a")
    for body, code in (
        ({"url": "ftp://127.0.0.1/x"}, "WEBHOOK_URL_REFUSED"),
        ({"url": "http://user:pw@127.0.0.1/x"}, "WEBHOOK_URL_REFUSED"),
        ({"url": "http://10.1.2.3/x"}, "WEBHOOK_URL_REFUSED"),  # private, and not the allowed one
        ({"url": "http://127.0.0.1/" + "a" * 2100}, "VALIDATION_ERROR"),
        ({"event_types": []}, "VALIDATION_ERROR"),
        ({"event_types": ["AGENT_CREATED"]}, "VALIDATION_ERROR"),  # not one a webhook may receive
        ({"event_types": ["RUN_COMPLETED"] * 17}, "VALIDATION_ERROR"),
        ({"description": "d" * 501}, "VALIDATION_ERROR"),
    ):
        refused = await subscribe(client, admin, **body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["code"] == code, refused.text
    for _ in range(3):
        assert (await subscribe(client, admin)).status_code == 201
    over = await subscribe(client, admin)
    assert over.status_code == 409 and over.json()["code"] == "TOO_MANY_WEBHOOKS"
