"""A first start with no configuration at all: a generated secret and a working login link."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import httpx

from tests.e2e.server import ServerProcess
from tests.waiting import eventually_sync


def test_first_start_prints_a_working_login_link(tmp_path: Path) -> None:
    server = ServerProcess(data_dir=tmp_path / "fresh").start()
    try:
        secret_file = tmp_path / "fresh" / "jwt-secret"
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        match = eventually_sync(
            lambda: re.search(r"Sign in as admin: (http://\S+)/#token=(\S+)", server.output()),
            what=lambda: f"no login link printed:\n{server.output()}",
        )
        assert match.group(1) == server.url
        me = httpx.get(f"{server.url}/auth/me", headers={"Authorization": f"Bearer {match.group(2)}"})
        assert me.status_code == 200
        assert me.json()["role"] == "admin" and me.json()["platform_admin"] is True
        # The secret itself never reaches the output.
        assert secret_file.read_text().strip() not in server.output()
    finally:
        server.stop()


def test_weak_secret_refuses_to_start(tmp_path: Path) -> None:
    server = ServerProcess(data_dir=tmp_path / "weak", env={"AUTH_JWT_SECRET": "too-short"})
    try:
        server.start(timeout=15)
    except RuntimeError as exc:
        assert "AUTH_JWT_SECRET is too weak" in str(exc)
        assert server.process is not None and server.process.returncode == 1
    else:
        server.stop()
        raise AssertionError("the server started with a weak secret")


def test_json_logs_carry_request_ids(tmp_path: Path) -> None:
    server = ServerProcess(data_dir=tmp_path / "logs").start()
    try:
        httpx.get(f"{server.url}/health", headers={"X-Request-ID": "trace-me-42"})
        lines = eventually_sync(
            lambda: [line for line in server.output().splitlines() if "trace-me-42" in line],
            what=lambda: f"the request was never logged:\n{server.output()}",
        )
        assert '"request_id": "trace-me-42"' in lines[0] and '"status": 200' in lines[0]
    finally:
        server.stop()
