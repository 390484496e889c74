"""Browser tests: Debian's Chromium driven by Playwright against a real `talkative serve`.

`playwright install` cannot download browsers here, so Playwright launches the system binary
(`make test` installs Debian's `chromium` package when it is missing). Screenshots of each view are
written to test-artifacts/ui/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.e2e.server import ServerProcess
from tests.waiting import eventually_sync

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # tests run as root in a container; the sandbox needs user namespaces
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
]


class UiServer(ServerProcess):
    """A first start with no secret configured: the server prints its own login link."""

    def login_link(self) -> str:
        match = eventually_sync(
            lambda: re.search(r"Sign in as admin: (\S+/#token=\S+)", self.output()),
            what=lambda: f"no login link printed:\n{self.output()}",
        )
        return match.group(1)

    def token(
        self, role: str, tenant: str | None, ttl: timedelta = timedelta(hours=1), sub: str | None = None
    ) -> str:
        secret = (self.data_dir / "jwt-secret").read_text().strip()
        return mint_token(secret=secret, sub=sub or f"ui-{role}", role=Role(role), tenant_id=tenant, ttl=ttl)


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    static = Path(__file__).resolve().parents[2] / "src" / "talkative" / "static" / "index.html"
    assert static.exists(), "the web UI is not built: run `make frontend` (make test does it)"
    server = UiServer(
        data_dir=tmp_path_factory.mktemp("ui") / "data", env={"TALKATIVE_SSE_KEEPALIVE_S": "0.5"}
    )
    server.start()
    yield server
    server.stop()


# Module scope, not session: while Playwright's sync API is open it keeps an event loop running on
# this thread, and the asyncio tests of later modules could not start their own.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is not installed: run scripts/ensure-system-packages.sh"
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{exc}\n{exc.stack}"))
    # Refused requests (401, 404, 422) are part of what the tests drive; the browser logs each one as
    # "Failed to load resource". Script errors and server errors are never expected.
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
