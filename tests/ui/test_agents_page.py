"""An agent's page and the Fleet page in a real browser, against a real server: change the
heartbeat interval, upload an input and get it back, delete the agent; as admin, provision."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.ui.conftest import UiServer, screenshot

TIMEOUT_MS = 15_000
TENANT = "tenant-ui"
MAX_UPLOAD = 4096


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """A server of its own: a small upload limit, so that the journey can go over it."""
    static = Path(__file__).resolve().parents[2] / "src" / "talkative" / "static" / "index.html"
    assert static.exists(), "the web UI is not built: run `make frontend` (make test does it)"
    env = {"TALKATIVE_SSE_KEEPALIVE_S": "0.5", "TALKATIVE_TOOL_WRITE_QUOTA_BYTES": str(MAX_UPLOAD)}
    process = UiServer(data_dir=tmp_path_factory.mktemp("agents-ui") / "data", env=env)
    process.start()
    yield process
    process.stop()


def _api(server: UiServer, method: str, path: str, token: str, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, f"{server.url}{path}", headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def _sign_in(page: Page, server: UiServer, token: str, path: str = "/") -> None:
    page.goto(f"{server.url}{path}#token={token}")
    expect(page.get_by_label("Signed in as")).to_be_visible(timeout=TIMEOUT_MS)


def test_operator_manages_an_agent(page: Page, server: UiServer) -> None:
    token = server.token("operator", TENANT)
    created = _api(server, "POST", "/agents", token, json={"id": "filer", "name": "Filer"})
    assert created.status_code == 201, created.text
    _sign_in(page, server, token)
    expect(page.get_by_role("link", name="Fleet")).to_have_count(0)  # operators have no Fleet

    page.locator(".agent-row", has_text="Filer").click()
    page.get_by_role("link", name="Open Filer").click()
    expect(page.get_by_role("heading", name="Filer", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    assert page.url.endswith("/agent/filer")

    settings = page.get_by_role("form", name="Agent settings")
    settings.get_by_label("Heartbeat interval (minutes)").fill("0")
    settings.get_by_role("button", name="Save").click()
    expect(settings.get_by_role("alert")).to_contain_text("Between 1 and 10080")
    settings.get_by_label("Heartbeat interval (minutes)").fill("7")
    settings.get_by_role("button", name="Save").click()
    expect(settings.get_by_text("Now every 7 min")).to_be_visible(timeout=TIMEOUT_MS)
    assert _api(server, "GET", "/agents/filer", token).json()["heartbeatMinutes"] == 7

    upload = page.get_by_role("form", name="Upload an input file")
    upload.get_by_label("Input file").set_input_files(
        files=FilePayload(name="big.bin", mimeType="application/octet-stream", buffer=b"x" * (MAX_UPLOAD + 1))
    )
    expect(upload.get_by_role("alert")).to_contain_text("one upload may be at most 4.0 KiB")
    expect(upload.get_by_role("button", name="Upload to inputs/")).to_be_disabled()
    content = "first line\nsecond line\n"
    upload.get_by_label("Input file").set_input_files(
        files=FilePayload(name="notes.txt", mimeType="text/plain", buffer=content.encode())
    )
    upload.get_by_role("button", name="Upload to inputs/").click()
    expect(upload.get_by_role("status")).to_have_text("Uploaded inputs/notes.txt.", timeout=TIMEOUT_MS)
    row = (
        page.get_by_role("table", name="Workspace files")
        .get_by_role("row")
        .filter(has_text="inputs/notes.txt")
    )
    expect(row).to_contain_text(f"{len(content)} B")
    row.get_by_role("button", name="View").click()
    expect(page.get_by_label("Contents of inputs/notes.txt").locator("pre")).to_have_text(content)
    with page.expect_download() as download_info:
        row.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "notes.txt"
    assert Path(download.path()).read_text() == content
    screenshot(page, "10-agent-page")

    danger = page.locator("#agent-delete")
    danger.get_by_role("button", name="Delete agent…").click()
    confirm = page.get_by_role("group", name="Confirm deletion")
    expect(confirm).to_contain_text("Delete Filer and its workspace files?")
    confirm.get_by_role("button", name="Delete Filer").click()
    expect(page.get_by_role("heading", name="Agents")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(".agent-row", has_text="Filer")).to_have_count(0, timeout=TIMEOUT_MS)
    assert _api(server, "GET", "/agents/filer", token).status_code == 404


def test_viewer_sees_no_controls(page: Page, server: UiServer) -> None:
    operator = server.token("operator", TENANT)
    assert (
        _api(server, "POST", "/agents", operator, json={"id": "watched", "name": "Watched"}).status_code
        == 201
    )
    put = _api(server, "PUT", "/agents/watched/files/inputs/seen.txt", operator, content=b"seen")
    assert put.status_code == 201, put.text
    _sign_in(page, server, server.token("viewer", TENANT), "/agent/watched")
    expect(page.get_by_role("heading", name="Watched", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Heartbeat every")).to_contain_text("30")
    expect(page.get_by_role("table", name="Workspace files")).to_contain_text("inputs/seen.txt")
    expect(page.get_by_role("form", name="Upload an input file")).to_have_count(0)
    expect(page.get_by_role("form", name="Agent settings")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete agent…")).to_have_count(0)
    expect(page.get_by_role("link", name="Fleet")).to_have_count(0)
    page.goto(f"{server.url}/fleet")
    expect(page.get_by_role("heading", name="Fleet is for admins")).to_be_visible(timeout=TIMEOUT_MS)


def test_admin_provisions_from_the_fleet_page(page: Page, server: UiServer, tmp_path: Path) -> None:
    admin = server.token("admin", TENANT)
    node = _api(server, "POST", "/fleet/nodes", admin, json={"name": "Local box"})
    assert node.status_code == 201, node.text
    agent = _api(server, "POST", "/fleet/agents", admin, json={"id": "scout", "name": "Scout", "skills": []})
    assert agent.status_code == 201, agent.text
    _sign_in(page, server, admin)
    page.get_by_role("link", name="Fleet").click()
    nodes = page.get_by_role("table", name="Nodes")
    expect(nodes.get_by_role("row").filter(has_text="Local box")).to_contain_text("new", timeout=TIMEOUT_MS)
    form = page.get_by_role("form", name="Provision scout")
    expect(form.get_by_label("Node")).to_have_value(node.json()["id"])
    form.get_by_role("button", name="Provision").click()
    expect(form.get_by_role("status")).to_contain_text(
        "Local box (local): provisioned at", timeout=TIMEOUT_MS
    )
    expect(nodes.get_by_role("row").filter(has_text="Local box")).to_contain_text("ready", timeout=TIMEOUT_MS)
    placement = page.get_by_label("Fleet agent scout").locator("ul.small li")
    expect(placement).to_contain_text("provisioned at")
    screenshot(page, "11-fleet-provisioned")

    listed = _api(server, "GET", "/fleet/agents/scout", admin).json()
    assert [p["status"] for p in listed["placements"]] == ["provisioned"]

    # A failure is shown as the server words it, and the node's status follows. (A 422: the page
    # fixture counts any 5xx as a server error, so the 502 of a failed write is not used here.)
    tenant_root = server.data_dir / "fleet" / TENANT
    link = tenant_root / "link"
    broken = _api(server, "POST", "/fleet/nodes", admin, json={"name": "Broken", "base_path": str(link)})
    assert broken.status_code == 201, broken.text
    link.symlink_to(tmp_path, target_is_directory=True)  # the node's folder now leads outside the root
    page.reload()
    form.get_by_label("Node").select_option(broken.json()["id"])
    form.get_by_role("button", name="Provision").click()
    expect(form.get_by_role("alert")).to_contain_text("outside the tenant's folder", timeout=TIMEOUT_MS)
    expect(nodes.get_by_role("row").filter(has_text="Broken")).to_contain_text("error", timeout=TIMEOUT_MS)
    assert list(tmp_path.iterdir()) == []
