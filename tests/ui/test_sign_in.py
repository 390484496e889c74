"""Signing in: pasted tokens, expired tokens, what each role sees, narrow screens."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.ui.conftest import UiServer, screenshot

TIMEOUT_MS = 15_000


def paste_token(page: Page, ui_server: UiServer, token: str) -> None:
    page.goto(ui_server.url + "/")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_pasted_viewer_token_shows_role_and_tenant_and_no_write_buttons(
    page: Page, ui_server: UiServer
) -> None:
    paste_token(page, ui_server, ui_server.token("viewer", "tenant-view"))
    header = page.get_by_role("banner")
    expect(header.get_by_text("viewer").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(header.get_by_text("tenant-view")).to_be_visible()
    expect(page.get_by_role("heading", name="Agents")).to_be_visible()
    # Nothing a viewer cannot use: no create form, no send box.
    expect(page.get_by_role("form", name="Create an agent")).to_have_count(0)
    expect(page.get_by_role("button", name="Create")).to_have_count(0)
    expect(page.get_by_label("Message")).to_have_count(0)
    screenshot(page, "10-viewer")


def test_expired_token_returns_to_sign_in_with_a_message(page: Page, ui_server: UiServer) -> None:
    expired = ui_server.token("operator", "tenant-a", ttl=timedelta(seconds=-60))
    page.goto(f"{ui_server.url}/#token={expired}")
    expect(page.get_by_role("heading", name="Sign in to Talkative")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("alert")).to_contain_text("expired")
    screenshot(page, "11-expired-token")


def test_garbage_pasted_token_is_refused_in_words(page: Page, ui_server: UiServer) -> None:
    paste_token(page, ui_server, "not-a-token")
    expect(page.get_by_role("heading", name="Sign in to Talkative")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("alert")).not_to_be_empty()


def test_mission_control_fits_a_phone_screen(page: Page, ui_server: UiServer) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    paste_token(page, ui_server, ui_server.token("operator", "tenant-phone"))
    expect(page.get_by_role("heading", name="Event log")).to_be_visible(timeout=TIMEOUT_MS)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 390px wide"
    screenshot(page, "12-mission-control-phone")
