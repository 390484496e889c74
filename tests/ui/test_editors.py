"""Editing in the browser: a workflow saved as a new version; rules refused with the reason shown."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import UiServer, screenshot

TIMEOUT_MS = 15_000


def sign_in(page: Page, ui_server: UiServer, path: str) -> str:
    token = ui_server.token("admin", None)
    page.goto(f"{ui_server.url}{path}#token={token}")
    return token


def test_new_workflow_edited_and_saved_as_a_version(page: Page, ui_server: UiServer) -> None:
    token = sign_in(page, ui_server, "/workflow")
    page.get_by_role("button", name="New workflow").click()
    page.get_by_label("New workflow name").fill("Month end")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("workflow-name")).to_contain_text("Month end", timeout=TIMEOUT_MS)

    for name in ("Collect receipts", "Book expenses"):
        page.get_by_label("New node name").fill(name)
        page.get_by_role("button", name="Add node").click()
        expect(page.get_by_test_id("workflow-node").filter(has_text=name)).to_be_visible()
    expect(page.get_by_test_id("workflow-dirty")).to_have_text("Unsaved changes")
    page.get_by_label("Version note").fill("two steps")
    page.get_by_role("button", name="Save version").click()
    expect(page.get_by_test_id("workflow-dirty")).to_have_text("No unsaved changes", timeout=TIMEOUT_MS)
    screenshot(page, "20-workflow-saved")

    workflow_id = page.url.split("workflow=")[1]
    stored = httpx.get(
        f"{ui_server.url}/workflow/{workflow_id}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert sorted(n["name"] for n in stored["nodes"]) == ["Book expenses", "Collect receipts"]
    assert stored["versions"][-1]["note"] == "two steps"
    assert all(n["position"] is not None for n in stored["nodes"])  # dragging/layout positions kept


def test_rules_with_an_unknown_provider_are_refused_inline(page: Page, ui_server: UiServer) -> None:
    token = sign_in(page, ui_server, "/router-admin")
    default_model = page.get_by_label("Default model")
    expect(default_model).to_have_value("local", timeout=TIMEOUT_MS)
    default_model.fill("nosuchprovider/model-x")
    page.get_by_role("button", name="Save rules").click()
    # Checked before saving: the reason is shown next to the field, and nothing reaches the server.
    expect(page.get_by_text("Unknown provider 'nosuchprovider'")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Fix the highlighted field before saving.")).to_be_visible()
    screenshot(page, "21-rules-refused")
    rules = httpx.get(
        f"{ui_server.url}/router/admin/rules", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert rules["default_model"] == "local"
