"""`talkative smoke` passes against a good server and fails, naming the check, against a broken one."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import PG_ADMIN_DSN, TEST_SECRET
from tests.e2e.server import ServerProcess
from tests.waiting import eventually_sync

pytestmark = pytest.mark.e2e


def _smoke(
    url: str, *extra: str, token: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "talkative", "smoke", "--url", url, "--timeout", "15", *extra]
    if token:
        args += ["--token", token]
    return subprocess.run(
        args, capture_output=True, text=True, timeout=180, env={**os.environ, **(env or {})}
    )


def test_smoke_passes_against_a_good_server(server: ServerProcess) -> None:
    token = mint_token(
        secret=TEST_SECRET, sub="ops", role=Role.OPERATOR, tenant_id="smoke-tenant", ttl=timedelta(hours=1)
    )
    result = _smoke(server.url, "--json", token=token)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    names = [c["name"] for c in report["checks"]]
    assert names == [
        "health",
        "mission control loads",
        "agent list",
        "create and start agent",
        "message produces events",
        "router metrics",
        "orchestrator answers",
        "cleanup",
    ]
    assert report["ok"] is True and all(c["ok"] and c["ms"] >= 0 for c in report["checks"])
    agents = httpx.get(f"{server.url}/agents", headers={"Authorization": f"Bearer {token}"}).json()["agents"]
    assert not [a for a in agents if a["id"].startswith("smoke-")], "the temporary agent was cleaned up"


def test_smoke_mints_its_own_token_from_the_local_secret(server: ServerProcess) -> None:
    result = _smoke(
        server.url, env={"AUTH_JWT_SECRET": TEST_SECRET, "TALKATIVE_DATA_DIR": str(server.data_dir)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout and "PASS" in result.stdout


async def _pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def test_smoke_fails_against_a_broken_database(tmp_path: Path) -> None:
    name = f"talkative_smoke_{secrets.token_hex(4)}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    broken = ServerProcess(
        data_dir=tmp_path / "data", env={"AUTH_JWT_SECRET": TEST_SECRET, "TALKATIVE_DATABASE_URL": url}
    ).start()
    try:
        asyncio.run(_pg(f'DROP DATABASE "{name}" WITH (FORCE)'))  # the database vanishes under the server
        # /health trusts a success for a second: smoke once the server has noticed.
        eventually_sync(
            lambda: httpx.get(f"{broken.url}/health", timeout=10).status_code == 503,
            what="the server never noticed its database was gone",
        )
        token = mint_token(
            secret=TEST_SECRET, sub="ops", role=Role.ADMIN, tenant_id=None, ttl=timedelta(hours=1)
        )
        result = _smoke(broken.url, token=token)
    finally:
        broken.stop()
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert result.returncode == 1, result.stdout
    health = next(line for line in result.stdout.splitlines() if line.startswith("health"))
    assert "FAIL" in health and "SMOKE FAILED" in result.stdout
