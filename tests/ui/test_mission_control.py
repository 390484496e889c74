"""The operator's journey through the UI in a real browser, against a real server."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import UiServer, screenshot

TIMEOUT_MS = 15_000


def sign_in_with_link(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.login_link())
    expect(page.get_by_text("admin", exact=False).first).to_be_visible(timeout=TIMEOUT_MS)
    # The token leaves the address bar once it is stored.
    assert "#token=" not in page.url


def create_and_start_agent(page: Page, name: str, template: str) -> None:
    form = page.get_by_role("form", name="Create an agent")
    form.get_by_label("Agent name").fill(name)
    form.get_by_label("Template").select_option(template)
    form.get_by_role("button", name="Create").click()
    agent = page.locator(".agent-row", has_text=name)
    expect(agent).to_be_visible(timeout=TIMEOUT_MS)
    agent.click()
    controls = page.locator(".agent-controls")
    controls.get_by_role("button", name="Start").click()
    expect(controls.get_by_role("button", name="Stop")).to_be_visible(timeout=TIMEOUT_MS)
    expect(agent.locator(".badge", has_text="running")).to_be_visible(timeout=TIMEOUT_MS)


def send(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send").click()


def test_operator_journey_mission_control(page: Page, ui_server: UiServer) -> None:
    sign_in_with_link(page, ui_server)
    expect(page.get_by_role("heading", name="Event log")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "01-mission-control-empty")

    create_and_start_agent(page, "Inbox helper", "mail-triage")
    events = page.locator(".event-list > li")
    before = events.count()

    send(page, "triage inbox now")
    reply = page.locator(".reply").last
    expect(reply.locator(".reply-text")).not_to_be_empty(timeout=TIMEOUT_MS)
    expect(reply.locator(".badge")).to_have_text(re.compile("completed|running|queued"))
    expect(reply.get_by_role("link", name="open the workflow")).to_be_visible()
    # The message's events arrive over SSE without a reload: the tool ran and the patch applied.
    log = page.locator("#events")
    listed = log.locator(".event-list")
    expect(listed.get_by_text("WORKFLOW_PATCH_APPLIED").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(listed.get_by_text("TOOL_RUN_FINISHED").first).to_be_visible(timeout=TIMEOUT_MS)
    assert events.count() > before
    # Filtering by type keeps only that type.
    log.get_by_label("Filter by type").select_option("WORKFLOW_PATCH_APPLIED")
    expect(events).to_have_count(1)
    log.get_by_label("Filter by type").select_option("")
    screenshot(page, "02-mission-control-after-message")

    # A sensitive request asks a human first; approving it from the panel completes the request.
    send(page, "refund customer order 42")
    approval = page.locator(".approval", has_text="refund")
    expect(approval).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "03-approval-pending")
    approval.get_by_role("button", name="Approve").click()
    expect(approval).to_have_count(0, timeout=TIMEOUT_MS)
    screenshot(page, "04-approval-decided")

    # The Workflow Editor shows the nodes the messages added, and highlights one that arrives live.
    reply.get_by_role("link", name="open the workflow").click()
    graph = page.get_by_test_id("workflow-graph")
    expect(graph.get_by_test_id("workflow-node").filter(has_text="Triage inbox now")).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(graph.get_by_test_id("workflow-node").filter(has_text=re.compile("refund", re.I))).to_be_visible()
    screenshot(page, "05-workflow-editor")
    agent_id = page.url.split("agent=")[1]
    posted = httpx.post(
        f"{ui_server.url}/agents/{agent_id}/message",
        json={"message": "summarize the month"},
        headers={"Authorization": f"Bearer {ui_server.token('admin', None)}"},
        timeout=30,
    )
    assert posted.status_code == 200, posted.text
    fresh = graph.locator(".wf-node-new").filter(has_text=re.compile("summarize the month", re.I))
    expect(fresh).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "06-workflow-editor-live-node")

    # Router Admin: the messages' usage rows and a rendered chart.
    page.get_by_role("link", name="Router Admin").click()
    expect(page.get_by_test_id("metric-requests")).to_contain_text(re.compile("[1-9]"), timeout=TIMEOUT_MS)
    rows = page.get_by_test_id("usage-table").locator("tbody tr")
    expect(rows.first).to_be_visible(timeout=TIMEOUT_MS)
    assert rows.count() >= 3
    expect(rows.first).to_contain_text("local")
    chart = page.get_by_test_id("usage-chart")
    expect(chart.locator(".recharts-surface").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(chart.locator(".recharts-bar-rectangle").first).to_be_attached()
    screenshot(page, "07-router-admin")

    token = ui_server.token("admin", None)
    decided = httpx.get(
        f"{ui_server.url}/approvals",
        params={"status": "approved"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert any("refund" in a["reason"] for a in decided["approvals"]), decided
