"""The emailed approval link in a real browser: a run waits for approval, the mail arrives through
a real SMTP server (aiosmtpd), and opening its link shows the approval and approves it, without
signing the browser in and with the token gone from the address bar."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.approval_mail.smtp import Mailbox, link_of, smtp_server
from tests.e2e.server import free_port
from tests.ui.conftest import UiServer, screenshot
from tests.waiting import eventually_sync

TIMEOUT_MS = 15_000
TENANT = "tenant-mail"
SENSITIVE = "transfer funds to supplier acme"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server(Mailbox()) as box:
        yield box


@pytest.fixture(scope="module")
def mail_ui_server(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[UiServer]:
    port = free_port()
    env = {
        "TALKATIVE_SSE_KEEPALIVE_S": "0.5",
        "TALKATIVE_SMTP_HOST": "127.0.0.1",
        "TALKATIVE_SMTP_PORT": str(mailbox.port),
        "TALKATIVE_SMTP_STARTTLS": "false",
        "TALKATIVE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TALKATIVE_WEBHOOKS_POLL_S": "0.1",
    }
    server = UiServer(data_dir=tmp_path_factory.mktemp("ui-mail") / "data", env=env, port=port)
    server.start()
    yield server
    server.stop()


def api(server: UiServer, role: str, sub: str | None = None) -> httpx.Client:
    token = server.token(role, TENANT, sub=sub)
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=90)


def test_the_emailed_link_approves_in_the_browser(
    mail_ui_server: UiServer, mailbox: Mailbox, page: Page
) -> None:
    with api(mail_ui_server, "admin") as admin, api(mail_ui_server, "operator", "olga") as olga:
        assert admin.post("/agents", json={"id": "payer", "name": "Payer"}).status_code == 201
        assert admin.post("/agents/payer/start").status_code == 200
        recipient = olga.post("/approval-recipients", json={"address": "olga@example.com"})
        assert recipient.status_code == 201, recipient.text
        reply = admin.post("/agents/payer/message", json={"message": SENSITIVE}).json()
    assert reply["run_status"] == "waiting_approval", reply
    run_id = reply["run_id"]

    [message] = eventually_sync(lambda: mailbox.to("olga@example.com") or None, what="no mail arrived")
    link, approval_id, token = link_of(message)
    page.goto(link)
    expect(page.get_by_text(SENSITIVE).first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("payer", exact=True)).to_be_visible()
    assert "#token" not in page.url and token not in page.url
    assert re.search(rf"/approvals/{approval_id}$", page.url), page.url
    screenshot(page, "approval-link")
    page.get_by_label("Note (optional)").fill("paid by the book")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text="Approved by olga")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    screenshot(page, "approval-link-decided")
    assert page.evaluate("() => localStorage.getItem('talkative.token')") is None

    with api(mail_ui_server, "operator") as operator:
        approval = operator.get(f"/approvals/{approval_id}").json()
        assert approval["status"] == "approved" and approval["decided_by"] == "olga"
        assert approval["note"] == "paid by the book" and approval["run_id"] == run_id
        status = eventually_sync(
            lambda: (
                (s := operator.get(f"/orchestrator/runs/{run_id}").json()["status"]) != "waiting_approval"
                and s
            ),
            what="the run never resumed",
        )
    assert status in ("running", "completed", "queued"), status
    # Reloaded without the fragment, the page is the app's: sign-in, since the link did not sign in.
    page.reload()
    expect(page.get_by_role("heading", name=re.compile("Sign in", re.I))).to_be_visible(timeout=TIMEOUT_MS)


def test_a_signed_in_operator_opens_the_approval_page_from_the_inbox(
    mail_ui_server: UiServer, mailbox: Mailbox, page: Page
) -> None:
    with api(mail_ui_server, "operator") as operator:
        reply = operator.post("/agents/payer/message", json={"message": SENSITIVE + " again"}).json()
        assert reply["run_status"] == "waiting_approval", reply
        [approval] = operator.get("/approvals", params={"run_id": reply["run_id"]}).json()["approvals"]
    page.goto(f"{mail_ui_server.url}/approvals#token={mail_ui_server.token('operator', TENANT)}")
    page.get_by_role("link", name=f"Page of approval {approval['id']}").click()
    expect(page).to_have_url(re.compile(rf"/approvals/{approval['id']}$"), timeout=TIMEOUT_MS)
    expect(page.get_by_text(approval["reason"]).first).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status").filter(has_text="Rejected by ui-operator")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    page.reload()  # the app's own page at this address, still signed in
    expect(page.get_by_role("status").filter(has_text="Rejected by ui-operator")).to_be_visible(
        timeout=TIMEOUT_MS
    )
