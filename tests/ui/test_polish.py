"""The operator's daily console (issue 17): what a person meets outside the happy path.

A route to a provider the server has not configured, API docs without internet, a phone screen,
dark mode, a login link pasted into an open tab, the server going away, a stopped agent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.ui.conftest import UiServer, screenshot

TIMEOUT_MS = 15_000
MINI = "openai/gpt-4o-mini"
RULES = {
    "default_model": "local",
    "routes": [{"match": "invoice", "model": MINI, "max_tokens": 200}],
    "prices": {MINI: {"input_per_mtok": 0.15, "output_per_mtok": 0.6}},
}
BUDGETS = {"global_daily_cost_cap_usd": 5, "tenants": {"tenant-polish": {"daily_cost_cap_usd": 1}}}
LIGHT_BG, DARK_BG = "rgb(244, 245, 247)", "rgb(18, 21, 28)"


def api(ui_server: UiServer, role: str = "admin", tenant: str | None = None) -> httpx.Client:
    token = ui_server.token(role, tenant)
    return httpx.Client(base_url=ui_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def sign_in(
    page: Page, ui_server: UiServer, path: str = "/", role: str = "admin", tenant: str | None = None
) -> None:
    page.goto(f"{ui_server.url}{path}#token={ui_server.token(role, tenant)}")
    # On a phone the button is in the closed menu: attached, not visible.
    signed_in = page.get_by_role("button", name="Sign out", include_hidden=True)
    expect(signed_in).to_be_attached(timeout=TIMEOUT_MS)


def background(page: Page) -> str:
    return str(page.evaluate("getComputedStyle(document.documentElement).backgroundColor"))


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


def test_router_admin_with_a_route_to_an_unconfigured_provider(page: Page, ui_server: UiServer) -> None:
    with api(ui_server) as admin:
        assert admin.put("/router/admin/rules", json=RULES).status_code == 200
        assert admin.put("/router/admin/budgets", json=BUDGETS).status_code == 200
    with api(ui_server, "admin", "tenant-polish") as tenant_admin:
        created = tenant_admin.post("/agents", json={"id": "ledger-bot", "name": "Ledger bot"})
        assert created.status_code == 201, created.text

    sign_in(page, ui_server, "/router-admin")
    spend = page.locator("#router-spend")
    expect(spend.get_by_test_id("spend-bar").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(spend.get_by_test_id("spend-falls-back")).to_contain_text(f"{MINI} falls back to local")
    rules = page.locator("#router-rules")
    expect(rules.get_by_test_id("falls-back").first).to_have_text("falls back to local")
    budgets = page.locator("#router-budgets")
    expect(budgets.get_by_label("Tenant", exact=True).first).to_have_value("tenant-polish")
    expect(budgets.get_by_role("alert")).to_have_count(0)
    # The labels say what is shown: the totals' window and the charts' range are not the same.
    expect(page.locator("#router-metrics")).to_contain_text("Totals of the last 90 days (UTC)")
    expect(page.get_by_test_id("usage-range")).to_have_text("Last 30 days (UTC)")

    # Agent caps are picked from the agents the server has, not typed.
    budgets.get_by_role("button", name="Add agent cap").click()
    row = budgets.locator(".ra-grid-caps-agent").last
    row.get_by_label("Tenant", exact=True).select_option("tenant-polish")
    agent_picker = row.get_by_label("Agent", exact=True)
    expect(agent_picker.locator("option", has_text="ledger-bot (Ledger bot)")).to_have_count(1)
    agent_picker.select_option("ledger-bot")
    row.get_by_label("Daily cap").fill("0.25")
    budgets.get_by_role("button", name="Save budgets").click()
    expect(budgets.get_by_text("Budgets saved.")).to_be_visible(timeout=TIMEOUT_MS)
    screenshot(page, "40-router-admin-falls-back")
    with api(ui_server) as admin:
        saved = admin.get("/router/admin/budgets").json()
    assert saved["agents"] == {
        "tenant-polish": {"ledger-bot": {"daily_cost_cap_usd": 0.25, "monthly_cost_cap_usd": None}}
    }


def test_docs_render_without_internet(page: Page, ui_server: UiServer) -> None:
    outside: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(ui_server.url):
            route.continue_()
        else:
            # ReDoc's "API docs by Redocly" credit is an image from its CDN: without it, only the
            # credit's logo is missing. Scripts, styles and data must all come from the server.
            if route.request.resource_type != "image":
                outside.append(f"{route.request.resource_type} {route.request.url}")
            route.abort()

    page.context.route("**/*", only_the_server)
    page.goto(f"{ui_server.url}/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(".opblock-summary-path", has_text="/router/admin/budgets").first).to_be_visible()
    screenshot(page, "41-docs-offline")
    page.goto(f"{ui_server.url}/redoc")
    expect(page.get_by_role("heading", name=re.compile("Talkative")).first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("menuitem", name="llm-router")).to_be_visible()
    assert outside == [], f"the docs asked other hosts: {outside}"


def test_dark_mode_follows_the_system_and_the_toggle(page: Page, ui_server: UiServer) -> None:
    page.emulate_media(color_scheme="dark")
    sign_in(page, ui_server)
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == DARK_BG
    screenshot(page, "42-dark-system")

    page.emulate_media(color_scheme="light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert background(page) == LIGHT_BG
    toggle = page.get_by_role("button", name=re.compile("^Theme:"))
    toggle.click()  # system -> light
    expect(toggle).to_have_attribute("data-theme-preference", "light")
    toggle.click()  # light -> dark, whatever the system says
    expect(toggle).to_have_attribute("data-theme-preference", "dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == DARK_BG
    page.reload()  # remembered
    expect(page.locator("html")).to_have_attribute("data-theme", "dark", timeout=TIMEOUT_MS)
    assert background(page) == DARK_BG
    screenshot(page, "43-dark-toggle")
    page.get_by_role("button", name=re.compile("^Theme:")).click()  # dark -> system (light here)
    expect(page.locator("html")).to_have_attribute("data-theme", "light")


def test_phone_layout_has_a_short_header_and_no_sideways_scroll(phone: Page, ui_server: UiServer) -> None:
    sign_in(phone, ui_server)
    for path, heading in (
        ("/", "Event log"),
        ("/workflow", "Workflow Editor"),
        ("/router-admin", "Router Admin"),
    ):
        phone.goto(f"{ui_server.url}{path}")
        expect(phone.get_by_role("heading", name=heading).first).to_be_visible(timeout=TIMEOUT_MS)
        header = phone.get_by_role("banner").first.bounding_box()
        assert header is not None and header["height"] <= 60, f"{path}: header {header}"
        sideways = phone.evaluate(
            "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
        )
        assert sideways <= 0, f"{path} scrolls sideways by {sideways}px at 390px wide"
        screenshot(phone, f"44-phone{path.replace('/', '-').rstrip('-')}")
    menu = phone.get_by_role("button", name="Menu")
    expect(phone.get_by_role("link", name="Mission Control")).to_be_hidden()
    menu.click()
    expect(phone.get_by_role("button", name="Close")).to_have_attribute("aria-expanded", "true")
    screenshot(phone, "45-phone-menu")
    phone.get_by_role("link", name="Mission Control").click()
    expect(phone.get_by_role("heading", name="Event log")).to_be_visible(timeout=TIMEOUT_MS)
    expect(phone.get_by_role("link", name="Mission Control")).to_be_hidden()


def test_login_link_pasted_into_a_tab_showing_sign_in(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.url + "/")
    expect(page.get_by_role("heading", name="Sign in to Talkative")).to_be_visible(timeout=TIMEOUT_MS)
    # Same page, another fragment: the browser does not load the page again.
    page.goto(f"{ui_server.url}/#token={ui_server.token('viewer', 'tenant-link')}")
    header = page.get_by_role("banner")
    expect(header.get_by_text("tenant-link")).to_be_visible(timeout=TIMEOUT_MS)
    assert "#token=" not in page.url
    screenshot(page, "46-login-link-open-tab")


def test_connection_banner_comes_and_goes_with_the_server(page: Page, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "/")
    expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible(timeout=TIMEOUT_MS)
    banner = page.get_by_test_id("connection-banner")
    expect(banner).to_have_count(0)

    page.context.route(f"{ui_server.url}/**", lambda route: route.abort("connectionrefused"))
    expect(banner).to_be_visible(timeout=TIMEOUT_MS)
    expect(banner).to_contain_text("Cannot reach the server")
    screenshot(page, "47-connection-lost")
    page.context.unroute(f"{ui_server.url}/**")
    expect(banner).to_have_count(0, timeout=TIMEOUT_MS)


def test_stopped_agent_is_said_in_words_and_its_chat_is_disabled(page: Page, ui_server: UiServer) -> None:
    with api(ui_server, "operator", "tenant-stop") as operator:
        assert operator.post("/agents", json={"id": "napper", "name": "Napper"}).status_code == 201
        sign_in(page, ui_server, "/?agent=napper", "operator", "tenant-stop")
        notice = page.get_by_test_id("agent-stopped")
        expect(notice).to_contain_text("This agent is stopped", timeout=TIMEOUT_MS)
        expect(page.get_by_label("Message")).to_be_disabled()
        screenshot(page, "48-agent-stopped")

        notice.get_by_role("button", name="Start agent").click()
        expect(notice).to_have_count(0, timeout=TIMEOUT_MS)
        message = page.get_by_label("Message")
        expect(message).to_be_enabled()

        # Stopped elsewhere: the page hears it live, says so and locks the input again.
        assert operator.post("/agents/napper/stop").status_code == 200
        expect(page.get_by_test_id("agent-stopped")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_label("Message")).to_be_disabled(timeout=TIMEOUT_MS)
        expect(page.get_by_role("button", name="Send")).to_be_disabled()
        screenshot(page, "49-agent-stopped-refusal")
