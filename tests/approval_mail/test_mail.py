"""Approval requests mailed from the event log through a real SMTP server (aiosmtpd), on SQLite and
PostgreSQL: to the recipients who may decide them, with a link whose token decides that approval
and nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_approval_token
from talkative.events import service as events
from talkative.events.models import EventRow
from talkative.events.schemas import EventType, NewEvent
from tests.approval_mail.conftest import PUBLIC_URL, SMTP_LOGIN
from tests.approval_mail.smtp import Mailbox, link_of, text_of
from tests.conftest import TEST_SECRET
from tests.factories import Json
from tests.factories.agents import running_agent
from tests.factories.runs import waiting_run
from tests.waiting import eventually

Auth = Callable[..., dict[str, str]]


async def add_recipient(client: httpx.AsyncClient, headers: dict[str, str], address: str) -> Json:
    """Enrols the token's subject (with its role, in its tenant) to be mailed at `address`."""
    created = await client.post("/approval-recipients", json={"address": address}, headers=headers)
    assert created.status_code == 201, created.text
    recipient: Json = created.json()
    return recipient


async def manual_approval(client: httpx.AsyncClient, operator: dict[str, str], reason: str) -> str:
    created = await client.post("/approvals", json={"agent_id": "helper", "reason": reason}, headers=operator)
    assert created.status_code == 201, created.text
    approval_id: str = created.json()["id"]
    return approval_id


async def settled(client: httpx.AsyncClient, admin: dict[str, str], recipient_id: str) -> list[Json]:
    async def read() -> list[Json] | None:
        answer = await client.get(f"/approval-recipients/{recipient_id}/deliveries", headers=admin)
        assert answer.status_code == 200, answer.text
        rows: list[Json] = answer.json()["deliveries"]
        return rows if rows and all(d["status"] != "pending" for d in rows) else None

    return await eventually(read, what=f"{recipient_id}'s mails never settled")


async def caught_up(app: FastAPI) -> None:
    """Waits until a new recipient would start after every event stored so far (on PostgreSQL the
    head stays behind events while an older transaction is open: see events/positions.py)."""

    async def passed() -> bool | None:
        async with app.state.runtime.sessionmaker() as session:
            newest = (
                await session.execute(
                    select(EventRow.xact, EventRow.id)
                    .order_by(EventRow.xact.desc(), EventRow.id.desc())
                    .limit(1)
                )
            ).first()
            head = await events.head(session)
        return True if newest is None or head >= tuple(newest) else None

    await eventually(passed, what="the event log's head never caught up")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_run_waiting_for_approval_is_mailed_and_the_link_decides_it(
    client: httpx.AsyncClient, auth: Auth, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin, operator = auth("admin", "tenant-a"), auth("operator", "tenant-a")
    await running_agent(client, operator, "helper")
    recipient = await add_recipient(client, auth("operator", "tenant-a", "olga"), "olga@example.com")
    run_id = await waiting_run(client, operator, "helper")  # today's APPROVAL_REQUESTED, no approvers

    [message] = await eventually(lambda: mailbox.to("olga@example.com") or None, what="no mail arrived")
    link, approval_id, token = link_of(message)
    assert link.startswith(f"{PUBLIC_URL}/approvals/{approval_id}#token=")
    assert message["Subject"].startswith("Approval needed: ")
    assert message["From"] == "approvals@talkative.example.com"
    [delivery] = await settled(client, admin, recipient["id"])
    assert message["Message-ID"] == f"<{delivery['delivery_id']}@talkative>"
    assert message["Talkative-Event-Id"] == str(delivery["event_id"])
    assert message["Talkative-Approval-Id"] == approval_id and run_id in text_of(message)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert mailbox.logins == [SMTP_LOGIN]
    # No deadline: the link lasts TALKATIVE_APPROVAL_LINK_TTL_S (an hour).
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    assert (
        abs(claims["exp"] - claims["iat"] - 3600) <= 1
        and claims["sub"] == "olga"
        and claims["role"] == "operator"
    )

    # The link's token reads and decides that approval, as the recipient.
    read = await client.get(f"/approvals/{approval_id}", headers=bearer(token))
    assert read.status_code == 200 and read.json()["run_id"] == run_id, read.text
    decided = await client.post(
        f"/approvals/{approval_id}/decision",
        json={"decision": "approved", "note": "ok"},
        headers=bearer(token),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved" and decided.json()["decided_by"] == "olga"

    # Neither the SMTP password nor the link's token is in a log line, an event or an answer.
    history = (await client.get("/events/history", headers=admin, params={"limit": 1000})).text
    deliveries = (await client.get(f"/approval-recipients/{recipient['id']}/deliveries", headers=admin)).text
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    for secret in (SMTP_LOGIN[1], token):
        assert secret not in ours and secret not in history and secret not in deliveries


async def test_the_links_token_opens_only_its_own_approval(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, mailbox: Mailbox
) -> None:
    operator = auth("operator", "tenant-a")
    await running_agent(client, operator, "helper")
    other = await manual_approval(client, operator, "another one")
    await caught_up(app)
    await add_recipient(client, auth("operator", "tenant-a", "olga"), "olga@example.com")
    mine = await manual_approval(client, operator, "refund order 42")
    [message] = await eventually(lambda: mailbox.to("olga@example.com") or None, what="no mail arrived")
    _, approval_id, token = link_of(message)
    assert approval_id == mine

    for method, url in (
        ("GET", f"/approvals/{other}"),
        ("POST", f"/approvals/{other}/decision"),
        ("GET", "/approvals"),
        ("GET", "/agents"),
        ("GET", "/auth/me"),
        ("GET", "/approval-recipients"),
        ("POST", "/approvals"),
    ):
        body = {"decision": "approved"} if url.endswith("decision") else {"agent_id": "helper", "reason": "x"}
        answer = await client.request(
            method, url, headers=bearer(token), json=body if method == "POST" else None
        )
        assert answer.status_code == 403 and answer.json()["code"] == "TOKEN_SCOPE", (
            method,
            url,
            answer.text,
        )
    assert (await client.get(f"/approvals/{other}", headers=operator)).json()["status"] == "pending"

    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    refused = await client.get(f"/approvals/{mine}", headers=bearer(tampered))
    assert refused.status_code == 401 and refused.json()["code"] == "INVALID_TOKEN"
    expired = mint_approval_token(
        secret=TEST_SECRET,
        sub="olga",
        role=Role.OPERATOR,
        tenant_id="tenant-a",
        approval_id=mine,
        expires_at=datetime.now(UTC) - timedelta(minutes=5),
    )
    late = await client.post(
        f"/approvals/{mine}/decision", json={"decision": "approved"}, headers=bearer(expired)
    )
    assert late.status_code == 401 and late.json()["code"] == "TOKEN_EXPIRED"
    other_tenant = mint_approval_token(
        secret=TEST_SECRET,
        sub="olga",
        role=Role.OPERATOR,
        tenant_id="tenant-b",
        approval_id=mine,
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    assert (await client.get(f"/approvals/{mine}", headers=bearer(other_tenant))).status_code == 404
    assert (await client.get(f"/approvals/{mine}", headers=bearer(token))).json()["status"] == "pending"


async def _emit(app: FastAPI, type_: EventType, approval_id: str, **payload: Any) -> None:
    async with app.state.runtime.sessionmaker() as session, session.begin():
        await events.append(
            session,
            [
                NewEvent(
                    type=type_,
                    tenant_id="tenant-a",
                    agent_id="helper",
                    message="approval",
                    payload={
                        "approval_id": approval_id,
                        "reason": "refund order 42",
                        "step": None,
                        **payload,
                    },
                )
            ],
        )


async def test_only_those_who_may_decide_at_the_stage_are_mailed(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, mailbox: Mailbox
) -> None:
    admin, operator = auth("admin", "tenant-a"), auth("operator", "tenant-a")
    await running_agent(client, operator, "helper")
    approval_id = await manual_approval(client, operator, "refund order 42")
    await caught_up(app)
    people = {
        "olga": await add_recipient(client, auth("operator", "tenant-a", "olga"), "olga@example.com"),
        "ann": await add_recipient(client, auth("admin", "tenant-a", "ann"), "ann@example.com"),
        "carol": await add_recipient(client, auth("operator", "tenant-a", "carol"), "carol@example.com"),
        "dave": await add_recipient(client, auth("admin", "tenant-a", "dave"), "dave@example.com"),
    }
    other_tenant = await add_recipient(client, auth("admin", "tenant-b", "bob"), "bob@example.com")
    deadline = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    stage = {
        "requested_by": "dave",
        "required": 1,
        "stage": 1,
        "deadline_at": deadline,
        "approvers": {"roles": ["admin"], "subjects": ["carol"]},
    }
    await _emit(app, EventType.APPROVAL_REQUESTED, approval_id, **stage)
    await _emit(app, EventType.APPROVAL_REMINDER, approval_id, **stage)
    await _emit(
        app,
        EventType.APPROVAL_ESCALATED,
        approval_id,
        **{**stage, "stage": 2, "approvers": {"roles": ["operator"], "subjects": []}},
    )

    # Every recipient's cursor passes the three events, mailed or not.
    async def all_passed() -> list[Json] | None:
        listed = (await client.get("/approval-recipients", headers=admin)).json()["recipients"]
        cursors = {r["subject"]: r["cursor"] for r in listed}
        return listed if len({cursors[s] for s in people}) == 1 and len(mailbox.received()) >= 4 else None

    await eventually(all_passed, what=lambda: f"not every recipient was served: {mailbox.received()}")
    for name in ("olga", "ann", "carol"):
        await settled(client, admin, people[name]["id"])
    subjects = {(m["To"], m["Subject"].split(":")[0]) for m in mailbox.received()}
    assert subjects == {
        ("ann@example.com", "Approval needed"),
        ("ann@example.com", "Reminder"),
        ("carol@example.com", "Approval needed"),
        ("carol@example.com", "Reminder"),
        ("olga@example.com", "Escalated"),
        ("carol@example.com", "Escalated"),
    }, subjects
    assert len(mailbox.received()) == 6
    reminder = next(m for m in mailbox.to("ann@example.com") if m["Subject"].startswith("Reminder: "))
    assert "Asked by:     dave" in text_of(reminder)
    # The link lasts until the deadline at most (10 minutes here, the TTL being an hour).
    _, _, token = link_of(reminder)
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    assert claims["exp"] == int(datetime.fromisoformat(deadline).timestamp())
    assert claims["scope"] == f"approval:{approval_id}" and claims["tenant_id"] == "tenant-a"
    decided = await client.post(
        f"/approvals/{approval_id}/decision", json={"decision": "rejected"}, headers=bearer(token)
    )
    assert decided.json()["decided_by"] == "ann"
    assert (
        await client.get(
            f"/approval-recipients/{other_tenant['id']}/deliveries", headers=auth("admin", "tenant-b")
        )
    ).json()["deliveries"] == []
    assert (
        await client.get(f"/approval-recipients/{people['dave']['id']}/deliveries", headers=admin)
    ).json()["deliveries"] == []


async def test_a_decided_approval_is_not_mailed_any_more(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, mailbox: Mailbox
) -> None:
    admin, operator = auth("admin", "tenant-a"), auth("operator", "tenant-a")
    await running_agent(client, operator, "helper")
    approval_id = await manual_approval(client, operator, "refund order 42")
    await caught_up(app)
    recipient = await add_recipient(client, auth("admin", "tenant-a", "ann"), "ann@example.com")
    decided = await client.post(
        f"/approvals/{approval_id}/decision", json={"decision": "approved"}, headers=operator
    )
    assert decided.status_code == 200
    await _emit(app, EventType.APPROVAL_REMINDER, approval_id)
    [delivery] = await settled(client, admin, recipient["id"])
    assert delivery["status"] == "skipped" and delivery["last_error"] == "the approval was already approved"
    assert mailbox.received() == []


async def test_a_request_past_its_deadline_is_not_mailed(
    app: FastAPI, client: httpx.AsyncClient, auth: Auth, mailbox: Mailbox
) -> None:
    admin, operator = auth("admin", "tenant-a"), auth("operator", "tenant-a")
    await running_agent(client, operator, "helper")
    approval_id = await manual_approval(client, operator, "refund order 42")
    await caught_up(app)
    recipient = await add_recipient(client, auth("admin", "tenant-a", "ann"), "ann@example.com")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await _emit(app, EventType.APPROVAL_REMINDER, approval_id, deadline_at=past)
    [delivery] = await settled(client, admin, recipient["id"])
    assert delivery["status"] == "skipped" and delivery["last_error"] == "the approval's deadline has passed"
    assert mailbox.received() == []


async def test_recipients_enrol_themselves_bounded_and_in_the_tokens_tenant(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    admin, olga = auth("admin", "tenant-a", "ann"), auth("operator", "tenant-a", "olga")
    body = {"address": "ann@example.com"}
    assert (await client.post("/approval-recipients", json=body, headers=auth("viewer"))).status_code == 403
    assert (await client.get("/approval-recipients", headers=auth("viewer"))).status_code == 403
    platform = await client.post("/approval-recipients", json=body, headers=auth("admin", None, "root"))
    assert platform.status_code == 403 and platform.json()["code"] == "TENANT_REQUIRED", platform.text
    assert "platform admin" in platform.json()["error"]
    for bad in (
        {"address": "not-an-address"},
        {"address": "a@b.com\r\nBcc: eve@evil.com"},
        {"address": "x" * 250 + "@example.com"},
        {**body, "subject": "olga"},  # nobody enrols someone else
        {**body, "subject": "ann"},
        {**body, "role": "operator"},
        {**body, "tenant_id": "tenant-b"},
    ):
        answer = await client.post("/approval-recipients", json=bad, headers=admin)
        assert answer.status_code == 422, (bad, answer.text)
    assert (await client.get("/approval-recipients", headers=admin)).json()["recipients"] == []

    created = await client.post("/approval-recipients", json=body, headers=admin)
    assert created.status_code == 201, created.text
    ann = created.json()
    assert (ann["tenant_id"], ann["subject"], ann["role"], ann["created_by"]) == (
        "tenant-a",
        "ann",
        "admin",
        "ann",
    )
    mine = await add_recipient(client, olga, "olga@example.com")
    assert (mine["subject"], mine["role"], mine["created_by"]) == ("olga", "operator", "olga")
    for who in (admin, olga):  # an address once in the tenant, whoever asks
        again = await client.post("/approval-recipients", json={"address": "ANN@example.com"}, headers=who)
        assert again.status_code == 409 and again.json()["code"] == "APPROVAL_RECIPIENT_EXISTS"
    too_long = await client.post(
        "/approval-recipients",
        json={"address": "long@example.com"},
        headers=auth("operator", "tenant-a", "s" * 201),
    )
    assert too_long.status_code == 422 and too_long.json()["code"] == "APPROVAL_RECIPIENT_SUBJECT_TOO_LONG"

    other = auth("admin", "tenant-b")
    assert (await client.get("/approval-recipients", headers=other)).json()["recipients"] == []
    assert (await client.delete(f"/approval-recipients/{ann['id']}", headers=other)).status_code == 404
    assert (await client.delete(f"/approval-recipients/{ann['id']}", headers=admin)).status_code == 204
    listed = (await client.get("/approval-recipients", headers=admin)).json()["recipients"]
    assert [r["id"] for r in listed] == [mine["id"]]


async def test_an_operator_sees_and_removes_only_their_own_recipients(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    admin = auth("admin", "tenant-a", "ann")
    olga, oscar = auth("operator", "tenant-a", "olga"), auth("operator", "tenant-a", "oscar")
    olgas = await add_recipient(client, olga, "olga@example.com")
    oscars = await add_recipient(client, oscar, "oscar@example.com")
    anns = await add_recipient(client, admin, "ann@example.com")
    elsewhere = await add_recipient(client, auth("operator", "tenant-b", "olga"), "olga@b.example.com")

    def ids(answer: httpx.Response) -> list[str]:
        assert answer.status_code == 200, answer.text
        return [r["id"] for r in answer.json()["recipients"]]

    assert ids(await client.get("/approval-recipients", headers=olga)) == [olgas["id"]]
    assert ids(await client.get("/approval-recipients", headers=oscar)) == [oscars["id"]]
    assert ids(await client.get("/approval-recipients", headers=admin)) == [
        olgas["id"],
        oscars["id"],
        anns["id"],
    ]

    for someone_elses in (oscars["id"], anns["id"], elsewhere["id"]):
        for method, url in (
            ("GET", f"/approval-recipients/{someone_elses}/deliveries"),
            ("DELETE", f"/approval-recipients/{someone_elses}"),
        ):
            answer = await client.request(method, url, headers=olga)
            assert answer.status_code == 404, (method, url, answer.text)
            assert answer.json()["code"] == "APPROVAL_RECIPIENT_NOT_FOUND"
    own = await client.get(f"/approval-recipients/{olgas['id']}/deliveries", headers=olga)
    assert own.status_code == 200 and own.json()["deliveries"] == []
    assert ids(await client.get("/approval-recipients", headers=admin)) == [
        olgas["id"],
        oscars["id"],
        anns["id"],
    ]

    assert (await client.delete(f"/approval-recipients/{olgas['id']}", headers=olga)).status_code == 204
    assert (await client.delete(f"/approval-recipients/{oscars['id']}", headers=admin)).status_code == 204
    assert ids(await client.get("/approval-recipients", headers=admin)) == [anns["id"]]
    assert ids(await client.get("/approval-recipients", headers=oscar)) == []


async def test_an_admin_cannot_have_mail_that_decides_as_the_policys_approver(
    client: httpx.AsyncClient, auth: Auth, mailbox: Mailbox
) -> None:
    """The policy names only "cfo": the admin cannot enrol as the CFO, and the admin's own address
    is not mailed that stage (neither the admin's subject nor the role admin approves it)."""
    admin, cfo, rita = auth("admin", "tenant-a", "ann"), auth("operator", "tenant-a", "cfo"), auth(sub="rita")
    policy = await client.put(
        "/approval-policy", json={"stages": [{"subjects": ["cfo"], "required": 1}]}, headers=admin
    )
    assert policy.status_code == 200, policy.text
    await running_agent(client, rita, "helper")

    forged = await client.post(
        "/approval-recipients",
        json={"address": "ann@example.com", "subject": "cfo", "role": "operator"},
        headers=admin,
    )
    assert forged.status_code == 422, forged.text
    anns = await add_recipient(client, admin, "ann@example.com")
    assert (anns["subject"], anns["role"]) == ("ann", "admin")
    cfos = await add_recipient(client, cfo, "cfo@example.com")
    approval_id = await manual_approval(client, rita, "wire 90000 to a new supplier")

    [message] = await eventually(lambda: mailbox.to("cfo@example.com") or None, what="the CFO got no mail")
    _, linked, token = link_of(message)
    assert linked == approval_id

    async def both_passed() -> bool | None:
        listed = (await client.get("/approval-recipients", headers=admin)).json()["recipients"]
        cursors = {r["id"]: r["cursor"] for r in listed}
        moved = cursors[anns["id"]] != anns["cursor"]  # it was made before the request
        return True if moved and cursors[anns["id"]] == cursors[cfos["id"]] else None

    await eventually(both_passed, what="the admin's recipient never passed the request")
    assert [m["To"] for m in mailbox.received()] == ["cfo@example.com"]
    assert (await client.get(f"/approval-recipients/{anns['id']}/deliveries", headers=admin)).json()[
        "deliveries"
    ] == []
    # The admin cannot decide it either; the CFO's link decides it as the CFO.
    refused = await client.post(
        f"/approvals/{approval_id}/decision", json={"decision": "approved"}, headers=admin
    )
    assert refused.status_code == 403, refused.text
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"]) == ("cfo", "operator")
    decided = await client.post(
        f"/approvals/{approval_id}/decision", json={"decision": "approved"}, headers=bearer(token)
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved" and decided.json()["decided_by"] == "cfo"
