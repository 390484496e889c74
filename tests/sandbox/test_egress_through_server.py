"""Network by declaration through the server: a skill declares a host, an admin allows it for the
agent, and only then do its runs reach that host (through the egress proxy); the allowance is part
of the pin, so attaching again without it withdraws it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from talkative.settings import Settings
from tests.factories import Auth
from tests.factories.agents import running_agent
from tests.factories.runs import wait_run
from tests.http_origin import serve_origin

# The allowed host is the test's own server on loopback, which the operator must name.
SETTINGS = {"TALKATIVE_EGRESS_ALLOW_PRIVATE": ["127.0.0.1"]}

FETCH = """\
import json, urllib.request, urllib.error
try:
    with urllib.request.urlopen("http://127.0.0.1:{port}/rates", timeout=10) as response:
        seen = [response.status, response.read().decode()]
except urllib.error.HTTPError as exc:
    seen = [exc.code, exc.read().decode()[:200]]
except OSError as exc:
    seen = ["error", type(exc).__name__]
print(json.dumps({{"ok": True, "data": {{"seen": seen}}}}))
"""


@pytest.fixture
def origin() -> Iterator[int]:
    with serve_origin(lambda _path: b"EUR 1.08") as port:
        yield port


def _install(workspace: Path, port: int) -> None:
    folder = workspace / "skills" / "rates"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "fetch.py").write_text(FETCH.format(port=port))
    (folder / "SKILL.md").write_text(
        "---\nname: rates\ndescription: Fetches exchange rates (test skill).\ntriggers: [rates]\n"
        f"command: python skills/rates/scripts/fetch.py\nnetwork: ['127.0.0.1:{port}']\n---\nFetches.\n"
    )


async def _attach(client: httpx.AsyncClient, auth: Auth, role: str, allow: bool) -> httpx.Response:
    return await client.post(
        "/agents/trader/skills/attach",
        json={"skillName": "rates", "allowNetwork": allow},
        headers=auth(role=role),
    )


async def _fetch(client: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    reply = await client.post("/agents/trader/message", json={"message": "rates please"}, headers=auth())
    assert reply.status_code == 200, reply.text
    run = await wait_run(client, auth(), reply.json()["run_id"], lambda r: r["status"] == "completed")
    [step] = [s for s in run["steps"] if s["name"] == "TOOL_RUN_FINISHED"]
    return step["payload"]  # type: ignore[no-any-return]


async def _skill(client: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    page = (await client.get("/agents/trader/skills", headers=auth())).json()
    [skill] = [s for s in page["skills"] if s["name"] == "rates"]
    return skill  # type: ignore[no-any-return]


async def test_a_declared_host_is_reached_only_once_an_admin_allows_it(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, origin: int
) -> None:
    await running_agent(client, auth(), "trader")
    _install(settings.workspaces_dir / "tenant-a" / "trader", origin)

    # An operator may attach the skill, but not give it the network.
    refused = await _attach(client, auth, "operator", allow=True)
    assert refused.status_code == 403 and refused.json()["code"] == "ROLE_FORBIDDEN"
    assert (await _attach(client, auth, "operator", allow=False)).status_code == 200
    skill = await _skill(client, auth)
    assert skill["network"] == [f"127.0.0.1:{origin}"] and skill["network_allowed"] is False
    without = await _fetch(client, auth)
    assert without["skillReport"]["data"]["seen"][0] == "error"  # no proxy, no route out
    assert without["metrics"]["isolated"]

    assert (await _attach(client, auth, "admin", allow=True)).status_code == 200
    assert (await _skill(client, auth))["network_allowed"] is True
    allowed = await _fetch(client, auth)
    assert allowed["skillReport"]["data"]["seen"] == [200, "EUR 1.08"]
    assert allowed["metrics"]["isolated"] and allowed["metrics"]["egress_refused"] == []

    # Attaching again without the allowance withdraws it.
    assert (await _attach(client, auth, "admin", allow=False)).status_code == 200
    withdrawn = await _fetch(client, auth)
    assert withdrawn["skillReport"]["data"]["seen"][0] == "error"
