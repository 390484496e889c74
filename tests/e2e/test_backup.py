"""`talkative backup` / `talkative restore` against real servers, while clients keep writing."""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import PG_ADMIN_DSN, TEST_SECRET
from tests.e2e.server import SERVER_ENV_KEYS, ServerProcess
from tests.e2e.sse import SseCollector
from tests.factories.agents import running_agent_sync
from tests.waiting import eventually_sync

pytestmark = pytest.mark.e2e

SERVER_ENV = {"AUTH_JWT_SECRET": TEST_SECRET}
CLIENTS = 10
WRITE_SECONDS = 3.0


def _headers() -> dict[str, str]:
    jwt = mint_token(
        secret=TEST_SECRET, sub="ops", role=Role.OPERATOR, tenant_id="acme", ttl=timedelta(hours=1)
    )
    return {"Authorization": f"Bearer {jwt}"}


def _token() -> str:
    return _headers()["Authorization"].removeprefix("Bearer ")


def cli(*args: str, data_dir: Path, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m talkative ARGS` the way an operator would, configured only by the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_KEYS)}
    env.update(TALKATIVE_DATA_DIR=str(data_dir), AUTH_JWT_SECRET=TEST_SECRET, TALKATIVE_LOG_LEVEL="WARNING")
    if database_url:
        env["TALKATIVE_DATABASE_URL"] = database_url
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "talkative", *args],
        env=env,
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_server(data_dir: Path, **env: str) -> ServerProcess:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return ServerProcess(data_dir=data_dir, env={**SERVER_ENV, **env}).start()


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        out: dict[str, bytes] = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            out[member.name] = handle.read() if handle else b""
        return out


def _integrity(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def _event_ids(db: Path) -> set[int]:
    conn = sqlite3.connect(db)
    try:
        return {int(row[0]) for row in conn.execute("SELECT id FROM events")}
    finally:
        conn.close()


@dataclass
class Ack:
    at: float
    run_id: str
    event_ids: list[int]


@dataclass
class Writers:
    url: str
    agent_id: str
    acks: list[Ack] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, client: int, until: float) -> None:
        with httpx.Client(base_url=self.url, headers=_headers(), timeout=60) as http:
            i = 0
            while time.monotonic() < until:
                i += 1
                text = f"note {client}-{i} then file {client}-{i}"
                reply = http.post(f"/agents/{self.agent_id}/message", json={"message": text})
                done = time.monotonic()
                with self._lock:
                    if reply.status_code == 200:
                        body = reply.json()
                        self.acks.append(Ack(done, body["run_id"], [int(e["id"]) for e in body["events"]]))
                    else:
                        self.failures.append(f"{reply.status_code} {reply.text[:200]}")


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An archive of a server with one agent, one message and a jwt-secret file in its data dir."""
    root = tmp_path_factory.mktemp("small")
    data_dir = root / "data"
    server = start_server(data_dir)
    try:
        with httpx.Client(base_url=server.url, headers=_headers(), timeout=60) as http:
            running_agent_sync(http, "keeper")
            assert http.post("/agents/keeper/message", json={"message": "note a"}).status_code == 200
        (data_dir / "jwt-secret").write_text("never-in-a-default-backup-" + secrets.token_hex(8))
        (data_dir / "jwt-secret").chmod(0o600)
        done = cli("backup", str(root / "small.tar.gz"), data_dir=data_dir)
        assert done.returncode == 0, done.stderr
    finally:
        server.stop()
    yield root / "small.tar.gz"


def test_backup_under_load_keeps_every_acknowledged_event(tmp_path: Path) -> None:
    source = start_server(tmp_path / "source" / "data")
    archive = tmp_path / "backups" / "live.tar.gz"
    try:
        with httpx.Client(base_url=source.url, headers=_headers(), timeout=60) as http:
            running_agent_sync(http, "ledger")
        writers = Writers(source.url, "ledger")
        until = time.monotonic() + WRITE_SECONDS
        threads = [threading.Thread(target=writers.run, args=(n, until)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        eventually_sync(
            lambda: len(writers.acks) >= CLIENTS, what="the clients were never acknowledged before the backup"
        )
        backup_started = time.monotonic()
        done = cli("backup", str(archive), data_dir=source.data_dir)
        backup_finished = time.monotonic()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        source.stop()

    assert done.returncode == 0, done.stderr
    assert "backup written to" in done.stdout and "events" in done.stdout, done.stdout
    assert not writers.failures, writers.failures[:3]
    guaranteed = [ack for ack in writers.acks if ack.at < backup_started]
    during = [ack for ack in writers.acks if backup_started <= ack.at <= backup_finished]
    assert len(guaranteed) >= CLIENTS, "the clients should have been acknowledged before the backup"
    assert during, "the clients should still have been writing while the backup ran"
    expected_events = {event_id for ack in guaranteed for event_id in ack.event_ids}
    expected_runs = {ack.run_id for ack in guaranteed}

    members = _members(archive)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == 1 and manifest["database"] == "sqlite"
    assert manifest["schema_revision"] and manifest["talkative_version"] and manifest["created_at"]
    snapshot = tmp_path / "snapshot.db"
    snapshot.write_bytes(members["database/talkative.db"])
    assert _integrity(snapshot) == ["ok"]
    missing = expected_events - _event_ids(snapshot)
    assert not missing, f"{len(missing)} acknowledged events are missing from the archive"

    restored_dir = tmp_path / "restored" / "data"
    done = cli("restore", str(archive), data_dir=restored_dir)
    assert done.returncode == 0, done.stderr
    assert _integrity(restored_dir / "talkative.db") == ["ok"]
    assert not expected_events - _event_ids(restored_dir / "talkative.db")

    restored = start_server(restored_dir)
    try:
        with httpx.Client(base_url=restored.url, headers=_headers(), timeout=60) as http:
            agent = http.get("/agents/ledger")
            assert agent.status_code == 200 and agent.json()["id"] == "ledger", agent.text
            for run_id in expected_runs:
                assert http.get(f"/orchestrator/runs/{run_id}").status_code == 200, run_id
        with SseCollector(restored.url, _token(), last_event_id=0) as stream:
            stream.wait_for(lambda _: expected_events <= set(stream.ids))
    finally:
        restored.stop()


def test_backup_includes_writes_still_in_the_wal(tmp_path: Path) -> None:
    """Committed rows that live only in the -wal file are in the snapshot (a file copy would lose them)."""
    data_dir = tmp_path / "wal" / "data"
    assert cli("migrate", data_dir=data_dir).returncode == 0
    writer = sqlite3.connect(data_dir / "talkative.db", isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE probe (n INTEGER)")
        writer.executemany("INSERT INTO probe VALUES (?)", [(n,) for n in range(500)])
        assert (data_dir / "talkative.db-wal").stat().st_size > 0
        archive = tmp_path / "wal.tar.gz"
        done = cli("backup", str(archive), data_dir=data_dir)
    finally:
        writer.close()
    assert done.returncode == 0, done.stderr
    snapshot = tmp_path / "snapshot.db"
    snapshot.write_bytes(_members(archive)["database/talkative.db"])
    conn = sqlite3.connect(snapshot)
    try:
        assert conn.execute("SELECT count(*) FROM probe").fetchone() == (500,)
    finally:
        conn.close()


def test_restore_refuses_a_running_server_unless_forced(small_archive: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "busy" / "data"
    server = start_server(data_dir)
    try:
        pid_path = data_dir / "server.pid"
        assert server.process is not None
        assert int(pid_path.read_text()) == server.process.pid
        refused = cli("restore", str(small_archive), data_dir=data_dir)
        assert refused.returncode == 1
        assert "running" in refused.stderr and "--force" in refused.stderr
        assert "Traceback" not in refused.stderr
        with httpx.Client(base_url=server.url, headers=_headers(), timeout=30) as http:
            assert http.get("/agents/keeper").status_code == 404, "a refused restore must not touch the data"
        forced = cli("restore", "--force", str(small_archive), data_dir=data_dir)
        assert forced.returncode == 0, forced.stderr
        assert "running server" in forced.stdout
    finally:
        server.stop()
    assert not pid_path.exists(), "the server removes its pid file when it stops"


def test_a_stale_pid_file_does_not_block(small_archive: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "crashed" / "data"
    data_dir.mkdir(parents=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (data_dir / "server.pid").write_text(f"{gone.pid}\n")
    done = cli("restore", str(small_archive), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert (data_dir / "talkative.db").exists()


def _rewrite_manifest(archive: Path, target: Path, manifest: bytes | None) -> None:
    with tarfile.open(archive, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src.getmembers():
            if member.name == "manifest.json":
                if manifest is None:
                    continue
                member.size = len(manifest)
                dst.addfile(member, io.BytesIO(manifest))
            else:
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)


def test_restore_refuses_an_archive_from_a_newer_schema(small_archive: Path, tmp_path: Path) -> None:
    manifest = json.loads(_members(small_archive)["manifest.json"])
    future = tmp_path / "future.tar.gz"
    _rewrite_manifest(
        small_archive, future, json.dumps({**manifest, "schema_revision": "9999_future"}).encode()
    )
    data_dir = tmp_path / "target" / "data"
    done = cli("restore", str(future), data_dir=data_dir)
    assert done.returncode == 1
    assert "9999_future" in done.stderr and "newer" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (data_dir / "talkative.db").exists()


@pytest.mark.parametrize(
    "manifest",
    [None, b"{not json", b'{"format": 1, "database": "sqlite"}'],
    ids=["missing", "bad-json", "partial"],
)
def test_restore_refuses_a_missing_or_malformed_manifest(
    small_archive: Path, tmp_path: Path, manifest: bytes | None
) -> None:
    broken = tmp_path / "broken.tar.gz"
    _rewrite_manifest(small_archive, broken, manifest)
    data_dir = tmp_path / "target" / "data"
    done = cli("restore", str(broken), data_dir=data_dir)
    assert done.returncode == 1
    assert "manifest.json" in done.stderr and "Traceback" not in done.stderr
    assert not (data_dir / "talkative.db").exists()


def test_the_secret_stays_out_unless_asked_for(small_archive: Path, tmp_path: Path) -> None:
    data_dir = small_archive.parent / "data"
    secret = (data_dir / "jwt-secret").read_bytes()
    members = _members(small_archive)
    assert "jwt-secret" not in members
    assert not any(secret in content for content in members.values())
    assert json.loads(members["manifest.json"])["includes_secret"] is False

    with_secret = tmp_path / "with-secret.tar.gz"
    done = cli("backup", "--include-secret", str(with_secret), data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "jwt-secret INCLUDED" in done.stdout
    assert _members(with_secret)["jwt-secret"] == secret
    target = tmp_path / "target" / "data"
    assert cli("restore", str(with_secret), data_dir=target).returncode == 0
    assert (target / "jwt-secret").read_bytes() == secret
    assert (target / "jwt-secret").stat().st_mode & 0o077 == 0


# --- PostgreSQL ------------------------------------------------------------------------------------


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def pg_pair() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases: the source and the restore target."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.fail("pg_dump / pg_restore are not installed (Debian: postgresql-client)")
    names = [f"talkative_backup_{secrets.token_hex(4)}" for _ in range(2)]
    try:
        for name in names:
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({exc})")
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    for name in names:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_postgresql_round_trip(pg_pair: tuple[str, str], tmp_path: Path) -> None:
    source_url, target_url = pg_pair
    source = start_server(tmp_path / "pg-source" / "data", TALKATIVE_DATABASE_URL=source_url)
    archive = tmp_path / "pg.tar.gz"
    try:
        with httpx.Client(base_url=source.url, headers=_headers(), timeout=60) as http:
            running_agent_sync(http, "pg-ledger")
            reply = http.post("/agents/pg-ledger/message", json={"message": "note pg then file pg"})
            assert reply.status_code == 200, reply.text
            event_ids = {int(e["id"]) for e in reply.json()["events"]}
        (source.data_dir / "workspaces" / "acme" / "pg-ledger" / "marker.txt").write_text("kept")
        done = cli("backup", str(archive), data_dir=source.data_dir, database_url=source_url)
    finally:
        source.stop()
    assert done.returncode == 0, done.stderr
    members = _members(archive)
    assert json.loads(members["manifest.json"])["database"] == "postgresql"
    assert members["database/talkative.pgdump"].startswith(b"PGDMP")

    restored_dir = tmp_path / "pg-restored" / "data"
    done = cli("restore", str(archive), data_dir=restored_dir, database_url=target_url)
    assert done.returncode == 0, done.stderr
    assert (restored_dir / "workspaces" / "acme" / "pg-ledger" / "marker.txt").read_text() == "kept"
    restored = start_server(restored_dir, TALKATIVE_DATABASE_URL=target_url)
    try:
        with httpx.Client(base_url=restored.url, headers=_headers(), timeout=60) as http:
            assert http.get("/agents/pg-ledger").status_code == 200
            stored = http.get("/agents/pg-ledger/events", params={"tail": 1000}).json()["events"]
            assert event_ids <= {int(e["id"]) for e in stored}
    finally:
        restored.stop()

    # Restoring again over the now-populated target replaces it (pg_restore --clean) instead of failing.
    again = cli("restore", str(archive), data_dir=restored_dir, database_url=target_url)
    assert again.returncode == 0, again.stderr
