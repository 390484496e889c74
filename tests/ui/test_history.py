"""Mission Control's history from the store (issue 17): what a reload keeps, paging back, chat
bubbles that follow their run, and workflow nodes that show what ran.

Each test works in a tenant of its own, so the event log it reads holds its own events only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import UiServer, screenshot

TIMEOUT_MS = 15_000
CHAT_PAGE = 20  # frontend/src/features/chat/hooks.ts
HISTORY_PAGE = 100  # frontend/src/features/events/hooks/useEventStream.tsx


@pytest.fixture
def admin(ui_server: UiServer) -> Iterator[httpx.Client]:
    token = ui_server.token("admin", None)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=ui_server.url, headers=headers, timeout=30) as client:
        yield client


def running_agent(
    admin: httpx.Client, tenant: str, agent_id: str, template: str | None = "mail-triage"
) -> None:
    body = {"id": agent_id, "name": agent_id.replace("-", " ").title(), "tenant_id": tenant}
    if template:
        body["template"] = template
    created = admin.post("/agents", json=body)
    assert created.status_code == 201, created.text
    started = admin.post(f"/agents/{agent_id}/start", params={"tenant_id": tenant})
    assert started.status_code == 200, started.text


def sign_in(page: Page, ui_server: UiServer, tenant: str, path: str) -> None:
    page.goto(f"{ui_server.url}{path}#token={ui_server.token('operator', tenant)}")
    expect(page.get_by_role("button", name="Sign out")).to_be_attached(timeout=TIMEOUT_MS)


def send(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()


def message(admin: httpx.Client, agent_id: str, text: str, tenant: str) -> dict[str, object]:
    posted = admin.post(f"/agents/{agent_id}/message", params={"tenant_id": tenant}, json={"message": text})
    assert posted.status_code == 200, posted.text
    reply: dict[str, object] = posted.json()
    return reply


def pending_approval(admin: httpx.Client, run_id: str) -> str:
    listed = admin.get("/approvals", params={"run_id": run_id, "status": "pending"})
    assert listed.status_code == 200, listed.text
    approvals = listed.json()["approvals"]
    assert len(approvals) == 1, approvals
    return str(approvals[0]["id"])


def test_a_reload_keeps_the_chat_the_agent_and_the_event_log_filters(
    page: Page, ui_server: UiServer, admin: httpx.Client
) -> None:
    tenant, agent = "tenant-reload", "keeper"
    running_agent(admin, tenant, agent)
    sign_in(page, ui_server, tenant, f"/?agent={agent}")
    expect(page.get_by_role("heading", name=f"Chat with {agent}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("No messages to this agent yet.")).to_be_visible(timeout=TIMEOUT_MS)

    send(page, "triage inbox now")
    turns = page.get_by_test_id("chat-turn")
    expect(turns).to_have_count(1, timeout=TIMEOUT_MS)
    expect(turns.first.locator(".reply .badge")).to_have_text("completed", timeout=TIMEOUT_MS)
    reply_text = turns.first.locator(".reply-text").inner_text()
    assert "mail-triage" in reply_text, reply_text  # the skill's result said in words
    log = page.locator("#events")
    expect(log.locator(".event-list").get_by_text("TOOL_RUN_FINISHED").first).to_be_visible(
        timeout=TIMEOUT_MS
    )
    # The stream's own copy of the message's events is not shown twice next to the reply.
    expect(turns).to_have_count(1)

    log.get_by_label("Filter by type").select_option("TOOL_RUN_FINISHED")
    log.get_by_label("selected agent only").check()
    expect(page).to_have_url(re.compile(r"type=TOOL_RUN_FINISHED"))
    expect(page).to_have_url(re.compile(r"only=agent"))

    page.reload()
    # Everything is still there: the agent, the conversation with its reply, the filtered log.
    expect(page.get_by_role("heading", name=f"Chat with {agent}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(turns).to_have_count(1, timeout=TIMEOUT_MS)
    expect(turns.first.locator(".bubble.mine")).to_have_text("triage inbox now")
    expect(turns.first.locator(".reply-text")).to_have_text(reply_text, timeout=TIMEOUT_MS)
    expect(turns.first.locator(".reply .badge")).to_have_text("completed")
    expect(page.locator(".agent-row.selected, .agent-row[aria-current]").first).to_contain_text("Keeper")
    expect(log.get_by_label("Filter by type")).to_have_value("TOOL_RUN_FINISHED")
    expect(log.get_by_label("selected agent only")).to_be_checked()
    rows = log.locator(".event-list > li")
    expect(rows).to_have_count(1, timeout=TIMEOUT_MS)
    expect(rows.first).to_contain_text("mail-triage")
    screenshot(page, "70-history-after-reload")

    # The whole log came back from the store, in order, and goes on live without repeating itself.
    log.get_by_label("Filter by type").select_option("")
    expect(log.locator(".event-list").get_by_text("MESSAGE_RECEIVED")).to_have_count(1)
    before = rows.count()
    send(page, "triage inbox now")
    expect(turns).to_have_count(2, timeout=TIMEOUT_MS)
    expect(turns.last.locator(".reply .badge")).to_have_text("completed", timeout=TIMEOUT_MS)
    expect(log.locator(".event-list").get_by_text("MESSAGE_RECEIVED")).to_have_count(2, timeout=TIMEOUT_MS)
    expect(log.locator(".event-list").get_by_text("TOOL_RUN_FINISHED")).to_have_count(2, timeout=TIMEOUT_MS)
    ids = rows.evaluate_all("items => items.map(li => li.querySelector('dd').textContent)")
    assert rows.count() > before
    assert len(ids) == len(set(ids)), ids  # no event twice
    # The reply to an unchanged workflow says so.
    expect(turns.last.locator(".reply-notice[data-code=WORKFLOW_UNCHANGED]")).to_be_visible()


def test_the_chat_and_the_event_log_page_back(page: Page, ui_server: UiServer, admin: httpx.Client) -> None:
    tenant, agent = "tenant-paging", "chatty"
    running_agent(admin, tenant, agent, template=None)
    total = CHAT_PAGE + 3
    for n in range(1, total + 1):
        message(admin, agent, f"note number {n}", tenant)
    counted = admin.get("/events/history", params={"tenant_id": tenant, "limit": 1000}).json()["events"]
    assert len(counted) > HISTORY_PAGE, len(counted)

    sign_in(page, ui_server, tenant, f"/?agent={agent}")
    turns = page.get_by_test_id("chat-turn")
    expect(turns).to_have_count(CHAT_PAGE, timeout=TIMEOUT_MS)
    expect(turns.last.locator(".bubble.mine")).to_have_text(f"note number {total}")
    expect(turns.first.locator(".bubble.mine")).to_have_text(f"note number {total - CHAT_PAGE + 1}")
    chat = page.locator("#chat")
    expect(chat.get_by_role("button", name="Load older messages")).to_be_visible()
    expect(turns.last.locator(".reply .badge")).to_have_text("completed", timeout=TIMEOUT_MS)
    log = page.locator("#events")
    rows = log.locator(".event-list > li")
    expect(rows).to_have_count(HISTORY_PAGE, timeout=TIMEOUT_MS)
    screenshot(page, "71-history-chat-first-page")

    # Scrolling to the top of the conversation brings the older messages, oldest first.
    chat.locator(".transcript").evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    expect(turns).to_have_count(total, timeout=TIMEOUT_MS)
    expect(turns.first.locator(".bubble.mine")).to_have_text("note number 1")
    expect(chat.get_by_role("button", name="Load older messages")).to_have_count(0)

    # The event log: the newest page, then older ones with the button (keyboard users), until none is left.
    older = log.get_by_role("button", name="Load older events")
    while older.count():
        shown = rows.count()
        older.click()
        expect(rows).not_to_have_count(shown, timeout=TIMEOUT_MS)
    expect(rows).to_have_count(len(counted))
    first = log.locator(".event-list > li").first
    expect(first).to_contain_text("AGENT_CREATED")
    screenshot(page, "72-history-event-log-paged-back")


def test_chat_bubbles_follow_approval_decisions(page: Page, ui_server: UiServer, admin: httpx.Client) -> None:
    tenant, agent = "tenant-bubbles", "cashier"
    running_agent(admin, tenant, agent)
    sign_in(page, ui_server, tenant, f"/?agent={agent}")
    turns = page.get_by_test_id("chat-turn")

    # Rejected elsewhere (not from this page): the bubble hears it and says "rejected", not "completed".
    send(page, "refund customer order 42")
    expect(turns).to_have_count(1, timeout=TIMEOUT_MS)
    refund = turns.first.locator(".reply")
    expect(refund.locator(".badge")).to_have_text("waiting approval", timeout=TIMEOUT_MS)
    pending = refund.locator(".approval-line[data-approval-status=pending]")
    expect(pending).to_contain_text("Waiting for a human to approve")
    expect(pending.get_by_role("link", name="review the approval")).to_be_visible()
    screenshot(page, "73-history-bubble-waiting-approval")
    run_id = refund.get_attribute("data-run-id")
    assert run_id
    decided = admin.post(
        f"/approvals/{pending_approval(admin, run_id)}/decision",
        json={"decision": "rejected", "note": "not today"},
    )
    assert decided.status_code == 200, decided.text
    expect(refund.locator(".badge")).to_have_text("rejected", timeout=TIMEOUT_MS)
    rejected = refund.locator(".approval-line[data-approval-status=rejected]")
    expect(rejected).to_contain_text("Rejected")
    expect(rejected).to_contain_text("not today")
    expect(refund.locator(".reply-text")).not_to_contain_text("completed")

    # Approved from the approvals panel: the bubble completes.
    send(page, "refund customer order 43")
    expect(turns).to_have_count(2, timeout=TIMEOUT_MS)
    second = turns.nth(1).locator(".reply")
    expect(second.locator(".badge")).to_have_text("waiting approval", timeout=TIMEOUT_MS)
    page.locator(".approval", has_text="43").get_by_role("button", name="Approve").click()
    expect(second.locator(".badge")).to_have_text("completed", timeout=TIMEOUT_MS)
    expect(second.locator(".approval-line[data-approval-status=approved]")).to_contain_text("Approved by")

    # Cancelled with its run: the approval is said cancelled and its link is gone.
    send(page, "wire transfer to the supplier")
    expect(turns).to_have_count(3, timeout=TIMEOUT_MS)
    third = turns.nth(2).locator(".reply")
    expect(third.locator(".badge")).to_have_text("waiting approval", timeout=TIMEOUT_MS)
    third_run = third.get_attribute("data-run-id")
    cancelled = admin.post(f"/orchestrator/runs/{third_run}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    expect(third.locator(".badge")).to_have_text("cancelled", timeout=TIMEOUT_MS)
    expect(third.locator(".approval-line[data-approval-status=cancelled]")).to_contain_text(
        "Approval cancelled"
    )
    expect(third.get_by_role("link", name="review the approval")).to_have_count(0)
    # ... and the approvals panel drops it (no buttons left to press on a cancelled run).
    expect(page.locator(".approval", has_text="supplier")).to_have_count(0, timeout=TIMEOUT_MS)
    screenshot(page, "74-history-bubbles-decided")

    # And after a reload, each bubble still says how it ended.
    page.reload()
    expect(turns).to_have_count(3, timeout=TIMEOUT_MS)
    badges = page.locator("[data-testid=chat-turn] .reply .badge")
    expect(badges).to_have_text(["rejected", "completed", "cancelled"], timeout=TIMEOUT_MS)

    # On a phone: the same conversation, nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(badges).to_have_text(["rejected", "completed", "cancelled"])
    sideways = page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
    assert sideways <= 0, f"Mission Control scrolls sideways by {sideways}px at 390px wide"
    page.locator("#chat").scroll_into_view_if_needed()
    screenshot(page, "77-history-phone-chat")


def test_workflow_node_shows_done_after_its_run_and_links_to_it(
    page: Page, ui_server: UiServer, admin: httpx.Client
) -> None:
    tenant, agent = "tenant-nodes", "refunder"
    running_agent(admin, tenant, agent)
    sign_in(page, ui_server, tenant, f"/?agent={agent}")
    send(page, "refund customer order 7")
    reply = page.get_by_test_id("chat-turn").first.locator(".reply")
    expect(reply.locator(".badge")).to_have_text("waiting approval", timeout=TIMEOUT_MS)
    run_id = reply.get_attribute("data-run-id")
    assert run_id

    reply.get_by_role("link", name="open the workflow").click()
    node = page.get_by_test_id("workflow-node").filter(has_text=re.compile("refund", re.I))
    expect(node).to_be_visible(timeout=TIMEOUT_MS)
    expect(node).not_to_have_attribute("data-status", "done")
    screenshot(page, "75-history-workflow-node-waiting")

    # Approved elsewhere: the node turns done live, and its run is one click away.
    decided = admin.post(
        f"/approvals/{pending_approval(admin, run_id)}/decision", json={"decision": "approved"}
    )
    assert decided.status_code == 200, decided.text
    expect(node).to_have_attribute("data-status", "done", timeout=TIMEOUT_MS)
    expect(node.locator(".wf-node-status")).to_have_text("done")
    link = node.get_by_test_id("workflow-node-run")
    expect(link).to_have_attribute("href", f"/runs/{run_id}")
    node.click()
    runs = page.get_by_test_id("workflow-node-runs")
    expect(runs.get_by_role("link", name=run_id)).to_have_attribute("href", f"/runs/{run_id}")
    screenshot(page, "76-history-workflow-node-done")
    link.click()
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}$"))
    expect(page.locator(".run-title")).to_contain_text(run_id, timeout=TIMEOUT_MS)


def test_a_history_that_cannot_load_is_said_and_the_log_goes_on_live(
    page: Page, ui_server: UiServer, admin: httpx.Client
) -> None:
    tenant, agent = "tenant-nohistory", "steady"
    running_agent(admin, tenant, agent, template=None)
    refused = {"error": "history is away", "code": "INVALID_INPUT"}
    page.route("**/events/history?*", lambda route: route.fulfill(status=422, json=refused))
    sign_in(page, ui_server, tenant, f"/?agent={agent}")
    log = page.locator("#events")
    expect(log.get_by_role("alert")).to_have_text(
        "The event history could not be loaded: history is away", timeout=TIMEOUT_MS
    )
    expect(page.locator("#chat").get_by_role("alert")).to_contain_text("history is away")
    expect(log.get_by_role("status")).to_have_text("Live", timeout=TIMEOUT_MS)
    message(admin, agent, "note after the outage", tenant)
    expect(log.locator(".event-list").get_by_text("MESSAGE_RECEIVED")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("chat-turn")).to_have_count(1, timeout=TIMEOUT_MS)
    screenshot(page, "78-history-unavailable")

    # Back again: "Try again" loads the conversation's history.
    page.unroute("**/events/history?*")
    chat = page.locator("#chat")
    with page.expect_response(lambda r: "/events/history?" in r.url and "MESSAGE_RECEIVED" in r.url) as got:
        chat.get_by_role("button", name="Try again").click()
    assert got.value.status == 200
    expect(chat.get_by_role("alert")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("chat-turn")).to_have_count(1)
