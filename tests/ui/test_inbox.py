"""The approvals inbox and readable results (issue 17) in a real browser, against a real server.

Approve and reject from the inbox (who, when, note; a rejected run reads "rejected"), votes under
an approval policy and a request that expired, a run
cancelled elsewhere while its approval waits (the buttons go at once, without a reload), a refused
decision said in words, a viewer without buttons, and a mail-triage result shown as a table of
emails by category in the event log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.ui.conftest import UiServer, screenshot
from tests.waiting import eventually_sync

TIMEOUT_MS = 15_000
TENANT = "tenant-inbox"
AGENT = "mailer"
SENSITIVE = "triage my inbox then transfer funds to supplier {}"


def api(ui_server: UiServer, role: str = "operator") -> httpx.Client:
    token = ui_server.token(role, TENANT)
    return httpx.Client(base_url=ui_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=90)


def running_agent(ui_server: UiServer, agent_id: str, template: str = "mail-triage") -> str:
    with api(ui_server) as client:
        body = {"id": agent_id, "name": agent_id.title(), "template": template}
        created = client.post("/agents", json=body)
        assert created.status_code == 201, created.text
        started = client.post(f"/agents/{agent_id}/start")
        assert started.status_code == 200, started.text
    return agent_id


@pytest.fixture(scope="module")
def mailer(ui_server: UiServer) -> str:
    return running_agent(ui_server, AGENT)


def gated_run(ui_server: UiServer, supplier: str) -> tuple[str, str]:
    """A run waiting for a human: its id and its approval's."""
    with api(ui_server) as client:
        reply = client.post(f"/agents/{AGENT}/message", json={"message": SENSITIVE.format(supplier)}).json()
    assert reply["run_status"] == "waiting_approval", reply
    action = next(a for a in reply["actions"] if a["type"] == "human_approval_required")
    return reply["run_id"], action["detail"]["approval_id"]


def run_status(ui_server: UiServer, run_id: str) -> str:
    with api(ui_server) as client:
        status: str = client.get(f"/orchestrator/runs/{run_id}").json()["status"]
    return status


def sign_in(page: Page, ui_server: UiServer, role: str, path: str) -> None:
    page.goto(f"{ui_server.url}{path}#token={ui_server.token(role, TENANT)}")
    # On a phone the account sits in the closed menu: attached, not visible.
    expect(page.get_by_label("Signed in as")).to_be_attached(timeout=TIMEOUT_MS)


def live(page: Page) -> None:
    """The event stream is open: what happens from now on reaches the page."""
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=TIMEOUT_MS)


def test_approve_and_reject_from_the_inbox(page: Page, ui_server: UiServer, mailer: str) -> None:
    approved_run, to_approve = gated_run(ui_server, "Acme")
    rejected_run, to_reject = gated_run(ui_server, "Bolt")
    sign_in(page, ui_server, "operator", "/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("heading", name="Approvals inbox")).to_be_visible()
    assert page.url.endswith("/approvals")

    pending = page.get_by_role("region", name=re.compile(r"^Pending"))
    first, second = page.locator(f"#approval-{to_approve}"), page.locator(f"#approval-{to_reject}")
    expect(pending.locator(f"#approval-{to_approve}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(pending.locator(f"#approval-{to_reject}")).to_be_visible()
    expect(first.get_by_role("link", name=approved_run)).to_have_attribute("href", f"/runs/{approved_run}")
    expect(first).to_contain_text("Once approved it will:")
    expect(first).to_contain_text(re.compile("transfer funds to supplier acme", re.I))
    expect(first.locator(".inbox-run .badge")).to_have_text("waiting approval")
    screenshot(page, "60-inbox-pending")

    first.get_by_label("Note (optional)").fill("paid by phone")
    first.get_by_role("button", name="Approve").click()
    expect(first).to_have_attribute("data-status", "approved", timeout=TIMEOUT_MS)
    expect(first.locator(".inbox-outcome")).to_contain_text("Approved by ui-operator")
    expect(first.locator(".inbox-note")).to_have_text("paid by phone")
    expect(first.locator(".inbox-outcome time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\d")
    )
    expect(first.get_by_role("button")).to_have_count(0)

    second.get_by_label("Note (optional)").fill("not our supplier")
    second.get_by_role("button", name="Reject").click()
    expect(second).to_have_attribute("data-status", "rejected", timeout=TIMEOUT_MS)
    expect(second.locator(".inbox-outcome")).to_contain_text("Rejected by ui-operator")
    expect(second.locator(".inbox-note")).to_have_text("not our supplier")
    expect(second.get_by_role("button")).to_have_count(0)
    decided = page.get_by_role("region", name=re.compile(r"^Decided"))
    expect(decided.locator(f"#approval-{to_approve}")).to_be_visible()
    expect(decided.locator(f"#approval-{to_reject}")).to_be_visible()
    # The runs end as decided, and the inbox follows them live: rejected is not completed.
    expect(second.locator(".inbox-run .badge")).to_have_text("rejected", timeout=TIMEOUT_MS)
    expect(first.locator(".inbox-run .badge")).to_have_text("completed", timeout=TIMEOUT_MS)
    assert run_status(ui_server, rejected_run) == "rejected"
    assert run_status(ui_server, approved_run) == "completed"
    expect(first.locator(".badge").first).to_have_text("approved")
    expect(second.locator(".badge").first).to_have_text("rejected")
    screenshot(page, "61-inbox-decided")

    # The status filter lives in the URL: only the rejected one.
    page.get_by_label("Status").select_option("rejected")
    expect(page.locator(".inbox-item")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(second).to_be_visible()
    assert "status=rejected" in page.url
    page.reload()
    expect(page.get_by_label("Status")).to_have_value("rejected", timeout=TIMEOUT_MS)
    expect(page.locator(".inbox-item")).to_have_count(1, timeout=TIMEOUT_MS)


def test_a_run_cancelled_elsewhere_loses_its_buttons_live(
    page: Page, ui_server: UiServer, mailer: str
) -> None:
    in_inbox_run, in_inbox = gated_run(ui_server, "Cargo")
    in_panel_run, in_panel = gated_run(ui_server, "Delta")
    sign_in(page, ui_server, "operator", "/approvals")
    live(page)
    item = page.locator(f"#approval-{in_inbox}")
    expect(item.get_by_role("button", name="Approve")).to_be_visible(timeout=TIMEOUT_MS)
    page.evaluate("window.__notReloaded = true")

    with api(ui_server, "admin") as admin:
        assert admin.post(f"/orchestrator/runs/{in_inbox_run}/cancel").status_code == 200
    expect(item).to_have_attribute("data-status", "cancelled", timeout=TIMEOUT_MS)
    expect(item.get_by_role("button")).to_have_count(0)
    expect(item.locator(".inbox-outcome")).to_contain_text("Cancelled by ui-admin")
    expect(item.locator(".inbox-note")).to_have_text("run cancelled")
    expect(item.locator(".inbox-run .badge")).to_have_text("cancelled")
    expect(
        page.get_by_role("region", name=re.compile(r"^Cancelled")).locator(f"#approval-{in_inbox}")
    ).to_be_visible()
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "62-inbox-cancelled-live")

    # Mission Control's panel lists what can be decided, and drops a cancelled one at once.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mission Control").click()
    panel = page.locator("#approvals")
    expect(panel.locator(f"#approval-{in_panel}").get_by_role("button", name="Approve")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(panel.locator(f"#approval-{in_inbox}")).to_have_count(0)
    with api(ui_server, "admin") as admin:
        assert admin.post(f"/orchestrator/runs/{in_panel_run}/cancel").status_code == 200
    expect(panel.locator(f"#approval-{in_panel}")).to_have_count(0, timeout=TIMEOUT_MS)
    assert page.evaluate("window.__notReloaded") is True
    panel.get_by_role("link", name="Open the inbox").click()
    expect(page.locator(f"#approval-{in_panel}")).to_have_attribute(
        "data-status", "cancelled", timeout=TIMEOUT_MS
    )


def test_a_refused_decision_is_said_in_words(page: Page, ui_server: UiServer, mailer: str) -> None:
    run_id, approval_id = gated_run(ui_server, "Echo")
    # No live updates on this page, so its buttons are still there when the run is cancelled.
    page.route(re.compile(r"/events\?"), lambda route: route.abort())
    sign_in(page, ui_server, "operator", "/approvals")
    item = page.locator(f"#approval-{approval_id}")
    expect(item.get_by_role("button", name="Approve")).to_be_visible(timeout=TIMEOUT_MS)
    with api(ui_server, "admin") as admin:
        assert admin.post(f"/orchestrator/runs/{run_id}/cancel").status_code == 200
    item.get_by_role("button", name="Approve").click()
    alert = item.get_by_role("alert")
    expect(alert).to_contain_text("already cancelled by ui-admin", timeout=TIMEOUT_MS)
    expect(alert).to_contain_text("It can no longer be decided")
    expect(alert).not_to_contain_text("None")
    # The refusal refreshes the list: the request now reads cancelled, the reason stays in view.
    expect(item).to_have_attribute("data-status", "cancelled", timeout=TIMEOUT_MS)
    expect(item.get_by_role("button")).to_have_count(0)
    expect(alert).to_be_visible()
    screenshot(page, "63-inbox-refused-decision")

    # Mission Control's panel no longer lists it, and says what became of the decision until dismissed.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mission Control").click()
    panel = page.locator("#approvals")
    refused = panel.get_by_role("alert").filter(has_text="already cancelled by ui-admin")
    expect(refused).to_be_visible(timeout=TIMEOUT_MS)
    expect(refused.get_by_role("link", name="See it in the inbox")).to_have_attribute("href", "/approvals")
    expect(panel.locator(f"#approval-{approval_id}")).to_have_count(0)
    refused.get_by_role("button", name="Dismiss").click()
    expect(refused).to_have_count(0)


POLICY_TENANT = "tenant-policy"


def policy_api(ui_server: UiServer, role: str) -> httpx.Client:
    token = ui_server.token(role, POLICY_TENANT)
    return httpx.Client(base_url=ui_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=90)


def test_votes_progress_and_an_expired_request_under_a_policy(page: Page, ui_server: UiServer) -> None:
    """Under a tenant's approval policy (its own tenant here, so the other journeys keep none): a
    pending card counts "n of m approvals" with the votes so far and its stage; a request nobody
    may approve (its only approver asked for it) fails closed and shows under Expired."""
    with policy_api(ui_server, "admin") as admin:
        two = {"stages": [{"roles": ["operator"], "required": 2, "deadline_s": 86400}]}
        assert admin.put("/approval-policy", json=two).status_code == 200
        created = admin.post("/agents", json={"id": "payer", "name": "Payer", "template": "mail-triage"})
        assert created.status_code == 201, created.text
        assert admin.post("/agents/payer/start").status_code == 200
        reply = admin.post("/agents/payer/message", json={"message": SENSITIVE.format("Fox")}).json()
        assert reply["run_status"] == "waiting_approval", reply
        voting = next(a for a in reply["actions"] if a["type"] == "human_approval_required")["detail"][
            "approval_id"
        ]
    page.goto(f"{ui_server.url}/approvals#token={ui_server.token('operator', POLICY_TENANT)}")
    item = page.locator(f"#approval-{voting}")
    expect(item.locator(".inbox-progress")).to_have_text("0 of 2 approvals", timeout=TIMEOUT_MS)
    expect(item.locator(".inbox-stage")).to_have_text("stage 1")
    expect(item.locator(".inbox-deadline time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    item.get_by_role("button", name="Approve").click()
    expect(item.locator(".inbox-progress")).to_have_text("1 of 2 approvals", timeout=TIMEOUT_MS)
    expect(item.get_by_role("list", name="Votes")).to_contain_text("ui-operator approved")
    expect(item).to_have_attribute("data-status", "pending")
    item.get_by_role("button", name="Approve").click()  # the same operator again: refused, in words
    expect(item.get_by_role("alert")).to_contain_text("voted on this request already", timeout=TIMEOUT_MS)
    expect(item).to_have_attribute("data-status", "pending")
    screenshot(page, "66-inbox-policy-votes")

    with policy_api(ui_server, "admin") as admin:
        alone = {"stages": [{"subjects": ["ui-admin"]}]}  # ui-admin asks below: nobody may approve
        assert admin.put("/approval-policy", json=alone).status_code == 200
        reply = admin.post("/agents/payer/message", json={"message": SENSITIVE.format("Gale")}).json()
        assert reply["run_status"] == "rejected", reply
        rejected = next(a for a in reply["actions"] if a["type"] == "approval.rejected")
        expired_id = rejected["detail"]["approval_id"]
    expired = page.get_by_role("region", name=re.compile(r"^Expired")).locator(f"#approval-{expired_id}")
    expect(expired).to_be_visible(timeout=TIMEOUT_MS)
    expect(expired).to_have_attribute("data-status", "expired")
    expect(expired.locator(".inbox-outcome")).to_contain_text("Expired: its step was rejected")
    expect(expired.locator(".inbox-note")).to_have_text("no approver can approve this")
    expect(expired.locator(".inbox-run .badge")).to_have_text("rejected")
    expect(expired.get_by_role("button")).to_have_count(0)
    screenshot(page, "67-inbox-expired")
    page.get_by_label("Status").select_option("expired")
    expect(page.locator(".inbox-item")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(expired).to_be_visible()


def test_a_viewer_sees_no_buttons(page: Page, ui_server: UiServer, mailer: str) -> None:
    _, approval_id = gated_run(ui_server, "Foxtrot")
    sign_in(page, ui_server, "viewer", "/approvals")
    item = page.locator(f"#approval-{approval_id}")
    expect(item).to_have_attribute("data-status", "pending", timeout=TIMEOUT_MS)
    expect(page.get_by_text("Your role can read approvals but not decide them.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    expect(item.get_by_label("Note (optional)")).to_have_count(0)
    screenshot(page, "64-inbox-viewer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Mission Control").click()
    expect(page.locator("#approvals").locator(f"#approval-{approval_id}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)


def test_the_inbox_pages_older_approvals(page: Page, ui_server: UiServer, mailer: str) -> None:
    with api(ui_server) as client:
        for n in range(26):
            made = client.post("/approvals", json={"agent_id": AGENT, "reason": f"manual request {n}"})
            assert made.status_code == 201, made.text
        pending = client.get("/approvals", params={"status": "pending", "limit": 1000}).json()["approvals"]
    assert len(pending) > 25
    sign_in(page, ui_server, "operator", "/approvals?status=pending")
    items = page.locator(".inbox-item")
    expect(items).to_have_count(25, timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Load older approvals").click()
    expect(items).to_have_count(len(pending), timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name="Load older approvals")).to_have_count(0)
    # In the API's order (newest first), the pages joined.
    expect(items.first).to_contain_text(pending[0]["reason"])
    expect(items.last).to_contain_text(pending[-1]["reason"])


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


def test_inbox_on_a_phone_has_no_sideways_scroll(phone: Page, ui_server: UiServer, mailer: str) -> None:
    gated_run(ui_server, "Golf")
    sign_in(phone, ui_server, "operator", "/approvals")
    expect(phone.locator(".inbox-item").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(phone.get_by_role("button", name="Approve").first).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(phone, "65-inbox-phone")


def finished_row(page: Page, agent: str) -> Locator:
    """This agent's newest TOOL_RUN_FINISHED row: the log also holds the tenant's earlier history."""
    rows = page.locator("#events .event-row").filter(has_text="TOOL_RUN_FINISHED")
    return rows.filter(has=page.locator(".muted", has_text=re.compile(rf"^{re.escape(agent)}$"))).last


def test_mail_triage_result_is_a_table_by_category(page: Page, ui_server: UiServer) -> None:
    agent = running_agent(ui_server, "triager")
    sign_in(page, ui_server, "operator", f"/?agent={agent}")
    live(page)
    with api(ui_server) as client:
        reply = client.post(f"/agents/{agent}/message", json={"message": "triage inbox now"}).json()
        assert reply["run_status"] == "completed", reply
        report = client.get(f"/agents/{agent}/files/outputs/mail-triage.json").json()
    counts: dict[str, int] = report["data"]["counts"]
    assert sum(counts.values()) == len(report["data"]["emails"]) > 0

    row = finished_row(page, agent)
    expect(row).to_be_visible(timeout=TIMEOUT_MS)
    row.locator("summary").click()
    result = row.locator(".result-view[data-renderer='mail-triage']")
    table = result.get_by_role("table", name="Emails by category")
    expect(table).to_be_visible()
    for category, count in counts.items():
        group = table.locator(f"tbody[data-category='{category}']")
        if count:
            expect(group.locator("th")).to_have_text(f"{category} ({count})")
            expect(group.locator("tr")).to_have_count(count + 1)  # the group's heading row and its emails
        else:
            expect(group).to_have_count(0)
    first_email = report["data"]["emails"][0]
    expect(table.locator(f"tbody[data-category='{first_email['category']}']")).to_contain_text(
        first_email["subject"]
    )
    expect(result.get_by_label("Emails per category")).to_contain_text("billing")
    screenshot(page, "66-mail-triage-result")

    # The file the skill wrote downloads with the session's token.
    with page.expect_download() as download:
        result.get_by_role("button", name="Download outputs/mail-triage.json").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename == "mail-triage.json"
    assert json.loads(saved.read_text())["data"]["counts"] == counts

    # The raw JSON is one click away, whole and scrollable.
    expect(result.get_by_label("Raw JSON")).to_have_count(0)
    result.get_by_role("button", name="Raw JSON").click()
    raw = result.get_by_label("Raw JSON")
    expect(raw).to_contain_text('"skillReport"')
    assert json.loads(raw.inner_text())["skillReport"]["data"]["counts"] == counts
    overflow = raw.evaluate("el => getComputedStyle(el).overflowY")
    assert overflow == "auto", overflow
    screenshot(page, "67-mail-triage-raw-json")

    # The run page's tool step shows the same result: its summary in words, the report (found in
    # the run's history: a step's result keeps only the summary and the files) as the table.
    page.goto(f"{ui_server.url}/runs/{reply['run_id']}")
    step = page.locator(".step-output").filter(has=page.locator(".result-view"))
    on_run_page = step.locator(".result-view[data-renderer='mail-triage']")
    expect(on_run_page.locator(".result-summary")).to_contain_text(
        "mail-triage finished:", timeout=TIMEOUT_MS
    )
    run_table = on_run_page.get_by_role("table", name="Emails by category")
    expect(run_table).to_be_visible(timeout=TIMEOUT_MS)
    expect(run_table.locator("tbody tr")).to_have_count(
        len(report["data"]["emails"]) + len([c for c, n in counts.items() if n])
    )
    screenshot(page, "69-mail-triage-on-the-run-page")


def test_bookkeeping_result_shows_totals_and_categories(page: Page, ui_server: UiServer) -> None:
    agent = running_agent(ui_server, "bookkeeper", "monthly-bookkeeping")
    sign_in(page, ui_server, "operator", f"/?agent={agent}")
    live(page)
    with api(ui_server) as client:
        reply = client.post(f"/agents/{agent}/message", json={"message": "do the monthly bookkeeping"}).json()
        assert reply["run_status"] == "completed", reply
        data = client.get(f"/agents/{agent}/files/outputs/monthly-bookkeeping.json").json()["data"]

    row = finished_row(page, agent)
    expect(row).to_be_visible(timeout=TIMEOUT_MS)
    row.locator("summary").click()
    result = row.locator(".result-view[data-renderer='monthly-bookkeeping']")
    totals = result.get_by_label("Totals")
    expect(totals).to_contain_text(f"Income{data['income']:,.2f}")
    expect(totals).to_contain_text(f"Net{data['net']:,.2f}")
    categories = result.get_by_role("table", name="Per category")
    expect(categories.locator("tbody tr")).to_have_count(len(data["byCategory"]))
    for name, amount in data["byCategory"].items():
        expect(categories.locator("tr", has_text=name).first).to_contain_text(f"{amount:,.2f}")
    screenshot(page, "68-bookkeeping-result")


def test_rejected_run_reads_rejected_in_the_api_list(ui_server: UiServer, mailer: str) -> None:
    """The inbox's run badge comes from the approvals list: it names the run's own status."""
    run_id, approval_id = gated_run(ui_server, "Hotel")
    with api(ui_server) as client:
        decided = client.post(
            f"/approvals/{approval_id}/decision", json={"decision": "rejected", "note": "no"}
        )
        assert decided.status_code == 200, decided.text
        listed = eventually_sync(
            lambda: next(
                (
                    a
                    for a in client.get("/approvals", params={"run_id": run_id}).json()["approvals"]
                    if a["run"]["status"] == "rejected"
                ),
                None,
            ),
            what="the rejected run never read rejected",
        )
    assert (listed["status"], listed["decided_by"], listed["note"]) == ("rejected", "ui-operator", "no")
