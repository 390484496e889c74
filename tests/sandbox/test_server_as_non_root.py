"""The whole server as an ordinary user (uid 65534), a tenant's hostile skill run through it.

`test_as_non_root.py` runs the corpus through the launcher alone; this runs `talkative serve`
itself unprivileged, so the sandbox rests on unprivileged user namespaces end to end (probe at
start-up, fork server, launcher), in `required` mode: a skill runs confined or not at all. The
venv's interpreter lives under /root (0700), out of that user's reach, so the server runs under
Debian's Python 3.11 with the venv's packages and the source tree on its path (the same ABI).
"""

from __future__ import annotations

import os
import secrets
import shutil
import site
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import talkative
from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.e2e.server import free_port
from tests.factories.agents import attach_skill, running_agent
from tests.factories.runs import wait_run
from tests.sandbox.test_through_the_server import PROBE

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3.11"
SECRET = secrets.token_urlsafe(48)
SKILL_MD = (
    "---\nname: probe\ndescription: Looks around (test skill).\ntriggers: [probe]\n"
    "command: python skills/probe/scripts/probe.py\nrequires_approval: false\n---\nLooks.\n"
)


def _own(root: Path) -> None:
    for directory, _dirs, files in os.walk(root):
        for path in [directory, *(os.path.join(directory, name) for name in files)]:
            os.lchown(path, NOBODY, NOBODY)


@pytest.fixture
def server() -> Iterator[tuple[str, Path]]:
    parent = Path(tempfile.mkdtemp(prefix="talkative-nonroot-", dir="/var/tmp"))
    parent.chmod(0o755)
    data = parent / "data"
    data.mkdir()
    _own(parent)
    port = free_port()
    path = [*site.getsitepackages(), str(Path(talkative.__file__).resolve().parents[1])]
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(parent), "LANG": "C.UTF-8", "PYTHONPATH": ":".join(path),
        "TALKATIVE_DATA_DIR": str(data), "TALKATIVE_PORT": str(port), "AUTH_JWT_SECRET": SECRET,
        "TALKATIVE_SANDBOX": "required",
    }  # fmt: skip
    log = (parent / "server.log").open("w")
    process = subprocess.Popen(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
         SYSTEM_PYTHON, "-m", "talkative", "serve"],
        env=env, cwd=parent, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError((parent / "server.log").read_text())
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (parent / "server.log").read_text()
            time.sleep(0.2)
        yield url, data
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(parent)


def _headers(role: str = "admin", tenant: str = "tenant-a") -> dict[str, str]:
    token = mint_token(secret=SECRET, sub="tester", role=Role(role), tenant_id=tenant, ttl=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


async def test_a_server_run_by_an_ordinary_user_confines_every_skill(server: tuple[str, Path]) -> None:
    url, data = server
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        health = (await client.get("/health")).json()
        assert health["sandbox"]["mode"] == "required" and health["sandbox"]["missing"] == []
        await running_agent(client, _headers(), "snoop", name="snoop")
        workspace = data / "workspaces" / "tenant-a" / "snoop"
        paths = [str(data / "talkative.db"), str(data / "jwt-secret"), "/etc/shadow", str(Path(__file__))]
        (workspace / "skills" / "probe" / "scripts").mkdir(parents=True)
        (workspace / "skills" / "probe" / "scripts" / "probe.py").write_text(
            PROBE.format(paths=paths, api_port=url.rsplit(":", 1)[1])
        )
        (workspace / "skills" / "probe" / "SKILL.md").write_text(SKILL_MD)
        _own(workspace)
        await attach_skill(client, _headers(), "snoop", "probe")

        reply = await client.post("/agents/snoop/message", json={"message": "probe now"}, headers=_headers())
        assert reply.status_code == 200, reply.text
        run = await wait_run(client, _headers(), reply.json()["run_id"], lambda r: r["status"] == "completed")

    [step] = [s for s in run["steps"] if s["name"] == "TOOL_RUN_FINISHED"]
    payload: dict[str, Any] = step["payload"]
    assert payload["ok"], payload["stderr"]
    assert payload["metrics"]["isolated"] and payload["metrics"]["sandbox"]["missing"] == []
    seen = payload["skillReport"]["data"]
    assert set(seen["reads"].values()) <= {"FileNotFoundError", "PermissionError"}, seen["reads"]
    assert seen["database"] != "connected" and seen["api"] != "connected"
    assert seen["skill"] in ("OSError", "PermissionError")
    assert seen["uid"] == NOBODY  # the sandbox uid, standing for the server's own
    assert (workspace / "skills" / "probe" / "SKILL.md").read_text() == SKILL_MD
