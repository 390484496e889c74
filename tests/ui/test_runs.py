"""Runs in a real browser, against a real server: the list with its filters and paging, a run's
page, and pause / resume / cancel on a run whose step is held in progress by a test skill."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.factories import Json
from tests.factories.agents import running_agent_sync
from tests.factories.runs import SENSITIVE
from tests.factories.skills import write_gated_skill, write_slow_skill
from tests.ui.conftest import UiServer, screenshot
from tests.waiting import eventually_sync, released

TIMEOUT_MS = 15_000
TENANT = "tenant-runs"
PAGE_SIZE = 25  # the list's page (features/runs/queries.ts)


def _api(server: UiServer, role: str = "operator") -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.token(role, TENANT)}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def _sign_in(page: Page, server: UiServer, path: str, role: str = "operator") -> None:
    page.goto(f"{server.url}{path}#token={server.token(role, TENANT)}")
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached(
        timeout=TIMEOUT_MS
    )


def _start_task(http: httpx.Client, agent_id: str, text: str) -> str:
    accepted = http.post(
        "/orchestrator/commands", json={"agent_id": agent_id, "type": "start_task", "payload": {"text": text}}
    )
    assert accepted.status_code == 202, accepted.text
    run_id: str = accepted.json()["run_id"]
    return run_id


def _run(http: httpx.Client, run_id: str) -> Json:
    response = http.get(f"/orchestrator/runs/{run_id}")
    assert response.status_code == 200, response.text
    run: Json = response.json()
    return run


@pytest.fixture(scope="module")
def workspace(ui_server: UiServer) -> Path:
    """A running agent with two skills: `hold` (step in progress until the test writes
    inputs/go-<n>) and `nap` (sleeps briefly), planned by "alpha" and "beta"."""
    with _api(ui_server) as http:
        running_agent_sync(http, "pauser", name="Pauser")
        folder = ui_server.data_dir / "workspaces" / TENANT / "pauser"
        write_gated_skill(folder, "hold", "alpha")
        write_slow_skill(folder, "nap", "beta")
        (folder / "inputs" / "sleep.txt").write_text("0.3")
        for skill in ("hold", "nap"):
            attached = http.post("/agents/pauser/skills/attach", json={"skillName": skill})
            assert attached.status_code == 200, attached.text
    return folder


def _next_start(workspace: Path) -> int:
    """Which start of the `hold` skill the next one will be (it waits for inputs/go-<n>)."""
    starts = workspace / "outputs" / "hold.starts"
    return len(starts.read_text().split()) + 1 if starts.exists() else 1


def _step(page: Page, n: int) -> Locator:
    return page.get_by_test_id("run-step").nth(n)


def _header(page: Page) -> Locator:
    return page.get_by_role("region", name="Run summary")


def test_pause_mid_step_then_resume(page: Page, ui_server: UiServer, workspace: Path) -> None:
    with _api(ui_server) as http:
        n = _next_start(workspace)
        run_id = _start_task(http, "pauser", "alpha then beta")
        alive = workspace / f"outputs/hold-{n}.alive"
        eventually_sync(alive.exists, what="step 1 never started")

        _sign_in(page, ui_server, f"/runs/{run_id}")
        header = _header(page)
        expect(header.locator(".badge").first).to_have_text("running", timeout=TIMEOUT_MS)
        expect(header.get_by_role("link", name="pauser")).to_have_attribute("href", "/agent/pauser")
        expect(_step(page, 0)).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
        expect(_step(page, 1)).to_have_attribute("data-status", "pending")
        expect(page.locator("#run-events").get_by_text("TOOL_RUN_STARTED")).to_have_count(
            1, timeout=TIMEOUT_MS
        )
        screenshot(page, "70-run-detail-running")

        header.get_by_role("button", name="Pause").click()
        expect(header.locator(".badge").first).to_have_text("paused", timeout=TIMEOUT_MS)
        expect(page.get_by_test_id("run-explanation")).to_contain_text("no new step starts")
        expect(header.get_by_role("button", name="Resume")).to_be_visible()
        expect(header.get_by_role("button", name="Pause")).to_have_count(0)
        # Pausing lets the step in progress finish: release it, and it ends done while the next waits.
        expect(_step(page, 0)).to_have_attribute("data-status", "running")
        (workspace / "inputs" / f"go-{n}").write_text("go")
        expect(_step(page, 0)).to_have_attribute("data-status", "done", timeout=TIMEOUT_MS)
        expect(_step(page, 0)).to_contain_text("Output")
        expect(_step(page, 1)).to_have_attribute("data-status", "pending")
        expect(header.locator(".badge").first).to_have_text("paused")
        eventually_sync(lambda: released(alive), what="step 1 never ended")
        # The events arrive live on the page: the pause, then the step's end.
        events = page.locator("#run-events")
        expect(events.get_by_text("RUN_PAUSED")).to_have_count(1, timeout=TIMEOUT_MS)
        expect(events.get_by_text("TOOL_RUN_FINISHED")).to_have_count(1, timeout=TIMEOUT_MS)
        assert not (workspace / "outputs" / "nap.pid").exists(), "the next step started while paused"
        assert _run(http, run_id)["status"] == "paused"
        screenshot(page, "71-run-detail-paused")

        header.get_by_role("button", name="Resume").click()
        expect(header.locator(".badge").first).to_have_text("completed", timeout=TIMEOUT_MS)
        expect(_step(page, 1)).to_have_attribute("data-status", "done", timeout=TIMEOUT_MS)
        expect(header.get_by_role("group", name="Run controls")).to_have_count(0)
        expect(page.get_by_test_id("run-duration")).not_to_contain_text("so far")
        expect(events.get_by_text("RUN_COMPLETED")).to_have_count(1, timeout=TIMEOUT_MS)
        # Each event once, although the stream may repeat the newest page's.
        expect(events.get_by_text("TOOL_RUN_STARTED")).to_have_count(2)
        screenshot(page, "72-run-detail-completed")

        run = _run(http, run_id)
        names = [s["name"] for s in run["steps"] if s["type"] == "event"]
        started = [i for i, n in enumerate(names) if n == "TOOL_RUN_STARTED"]
        assert names.index("RUN_PAUSED") < names.index("RUN_RESUMED") < started[1], names
        assert (workspace / "outputs/executions.log").read_text().endswith(f"hold {n}\nnap\n")


def test_cancel_from_the_run_page(page: Page, ui_server: UiServer, workspace: Path) -> None:
    with _api(ui_server) as http:
        alive = workspace / f"outputs/hold-{_next_start(workspace)}.alive"
        run_id = _start_task(http, "pauser", "alpha then beta")
        eventually_sync(alive.exists, what="the step never started")
        _sign_in(page, ui_server, f"/runs/{run_id}")
        header = _header(page)
        expect(_step(page, 0)).to_have_attribute("data-status", "running", timeout=TIMEOUT_MS)
        header.get_by_role("button", name="Cancel…").click()
        confirm = header.get_by_role("group", name="Confirm cancel")
        confirm.get_by_role("button", name="Keep it").click()
        expect(header.locator(".badge").first).to_have_text("running")
        header.get_by_role("button", name="Cancel…").click()
        confirm.get_by_role("button", name="Cancel run").click()
        expect(header.locator(".badge").first).to_have_text("cancelled", timeout=TIMEOUT_MS)
        expect(_step(page, 0)).to_have_attribute("data-status", "cancelled", timeout=TIMEOUT_MS)
        expect(_step(page, 1)).to_have_attribute("data-status", "cancelled")
        expect(header.get_by_role("button", name="Resume")).to_have_count(0)
        # Cancelling kills the running skill: its lock is released without the test letting it go.
        eventually_sync(lambda: released(alive), what="the skill outlived the cancel")
        assert _run(http, run_id)["status"] == "cancelled"
        # A move the run no longer allows is refused by the API, in words.
        refused = http.post(f"/orchestrator/runs/{run_id}/resume")
        assert refused.status_code == 409 and "cancelled" in refused.json()["error"]


def test_runs_list_filters_and_paging(page: Page, ui_server: UiServer, workspace: Path) -> None:
    with _api(ui_server) as http:
        running_agent_sync(http, "lister", name="Lister")
        _start_task(http, "lister", "sort the shelf")  # nothing to execute: a task run that completes
        for i in range(PAGE_SIZE + 2):
            sent = http.post("/agents/lister/message", json={"message": f"note number {i}"})
            assert sent.status_code == 200, sent.text
        sensitive = http.post("/agents/lister/message", json={"message": SENSITIVE}).json()
        assert sensitive["run_status"] == "waiting_approval", sensitive
        pending = http.get("/approvals", params={"run_id": sensitive["run_id"]}).json()["approvals"]
        approval_id = pending[0]["id"]
        decided = http.post(
            f"/approvals/{approval_id}/decision", json={"decision": "rejected", "note": "not this month"}
        )
        assert decided.status_code == 200, decided.text
        rejected_id = sensitive["run_id"]
        assert _run(http, rejected_id)["status"] == "rejected"

    # Mission Control: a bounded panel of the latest runs, and a way to all of them.
    _sign_in(page, ui_server, "/?agent=lister")
    panel = page.locator("#runs")
    rows = panel.locator(".run-row")
    expect(rows.first).to_be_visible(timeout=TIMEOUT_MS)
    assert rows.count() <= 6
    expect(panel.get_by_role("link", name="All runs")).to_have_attribute("href", "/runs?agent=lister")
    box = panel.locator(".run-list").bounding_box()
    assert box is not None and box["height"] <= 18 * 16 + 2, box
    screenshot(page, "73-mission-control-runs-panel")
    panel.get_by_role("link", name="All runs").click()
    expect(page).to_have_url(re.compile(r"/runs\?agent=lister$"))

    runs = page.get_by_role("list", name="Runs").locator(".run-row")
    expect(runs).to_have_count(PAGE_SIZE, timeout=TIMEOUT_MS)
    expect(runs.first).to_contain_text("transfer funds")  # newest first
    expect(page.get_by_label("Agent")).to_have_value("lister")
    screenshot(page, "74-runs-list")
    page.get_by_role("button", name="Older runs").click()
    expect(runs).to_have_count(PAGE_SIZE + 4, timeout=TIMEOUT_MS)
    expect(runs.last).to_contain_text("sort the shelf")
    expect(page.get_by_role("button", name="Older runs")).to_have_count(0)
    expect(page.get_by_text("that is all")).to_be_visible()

    # Filters go to the URL, and a reload keeps them.
    page.get_by_label("Status").select_option("rejected")
    expect(page).to_have_url(re.compile(r"agent=lister&status=rejected"))
    expect(runs).to_have_count(1, timeout=TIMEOUT_MS)
    page.reload()
    expect(runs).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.get_by_label("Status")).to_have_value("rejected")
    page.get_by_label("Status").select_option("failed")
    expect(page.get_by_text("No runs match: agent lister, failed.")).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/runs$"))
    page.get_by_label("Kind").select_option("task")
    expect(runs.filter(has_text="sort the shelf")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(runs.filter(has_text="note number")).to_have_count(0)
    page.get_by_label("Time").select_option("1h")
    expect(page).to_have_url(re.compile(r"kind=task&range=1h"))
    expect(runs.filter(has_text="sort the shelf")).to_have_count(1, timeout=TIMEOUT_MS)
    page.get_by_label("Time").select_option("custom")
    page.get_by_label("To").fill("2020-01-01")
    expect(page.get_by_text(re.compile("No runs match"))).to_be_visible(timeout=TIMEOUT_MS)

    # The rejected run reads rejected, never completed, with who rejected it and why.
    page.goto(f"{ui_server.url}/runs?status=rejected")
    page.get_by_role("link", name=f"Run {rejected_id}").click()
    expect(page).to_have_url(re.compile(f"/runs/{rejected_id}$"))
    header = _header(page)
    expect(header.locator(".badge").first).to_have_text("rejected", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("run-explanation")).to_contain_text("not completed")
    approval = page.get_by_test_id("run-approval")
    expect(approval).to_contain_text("rejected by ui-operator")
    expect(approval).to_contain_text("not this month")
    expect(page.get_by_test_id("run-step").filter(has_text="rejected").first).to_be_visible()
    screenshot(page, "75-run-detail-rejected")


def test_parent_and_child_runs_link_to_each_other(page: Page, ui_server: UiServer) -> None:
    with _api(ui_server) as http:
        running_agent_sync(http, "boss", name="Boss")
        running_agent_sync(http, "helper", name="Helper")
        accepted = http.post(
            "/orchestrator/commands",
            json={
                "agent_id": "boss",
                "type": "request_delegate",
                "payload": {"target_agent_id": "helper", "text": "file the receipts"},
            },
        )
        assert accepted.status_code == 202, accepted.text
        parent_id = accepted.json()["run_id"]
        child_id = eventually_sync(
            lambda: (_run(http, parent_id).get("children") or [None])[0], what="the child run never opened"
        )

    _sign_in(page, ui_server, f"/runs/{parent_id}")
    expect(_header(page).locator(".badge").first).to_have_text("completed", timeout=TIMEOUT_MS)
    related = page.locator("#run-related")
    expect(related.get_by_role("link", name=child_id)).to_be_visible()
    expect(_step(page, 0)).to_contain_text(f"Child run: {child_id}")
    related.get_by_role("link", name=child_id).click()
    expect(page).to_have_url(re.compile(f"/runs/{child_id}$"))
    header = _header(page)
    expect(header.get_by_role("link", name="helper")).to_be_visible(timeout=TIMEOUT_MS)
    expect(header).to_contain_text("delegated")
    expect(page.locator("#run-related").get_by_role("link", name=parent_id)).to_be_visible()
    page.locator("#run-related").get_by_role("link", name=parent_id).click()
    expect(page).to_have_url(re.compile(f"/runs/{parent_id}$"))
    expect(_header(page).get_by_role("link", name="boss")).to_be_visible(timeout=TIMEOUT_MS)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


def test_a_viewer_sees_runs_without_controls(
    page: Page, phone: Page, ui_server: UiServer, workspace: Path
) -> None:
    with _api(ui_server) as http:
        waiting = http.post("/agents/pauser/message", json={"message": SENSITIVE}).json()
        assert waiting["run_status"] == "waiting_approval", waiting
    run_id = waiting["run_id"]

    _sign_in(page, ui_server, f"/runs/{run_id}")
    expect(_header(page).get_by_role("button", name="Cancel…")).to_be_visible(timeout=TIMEOUT_MS)

    _sign_in(phone, ui_server, f"/runs/{run_id}", role="viewer")
    header = _header(phone)
    expect(header.locator(".badge").first).to_have_text("waiting approval", timeout=TIMEOUT_MS)
    expect(phone.get_by_test_id("run-approval")).to_contain_text("Waiting for a decision")
    expect(header.get_by_role("button")).to_have_count(0)
    expect(phone.get_by_role("group", name="Run controls")).to_have_count(0)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the run page scrolls sideways on a phone ({width}px)"
    screenshot(phone, "76-run-detail-viewer-phone")
    phone.goto(f"{ui_server.url}/runs")
    expect(phone.get_by_role("list", name="Runs").locator(".run-row").first).to_be_visible(timeout=TIMEOUT_MS)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the runs list scrolls sideways on a phone ({width}px)"
    screenshot(phone, "77-runs-list-phone")
