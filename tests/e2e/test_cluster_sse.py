"""No event is ever skipped: a subscriber that reconnects every quarter of a second, resuming
with Last-Event-ID from whichever process it reaches, receives every stored event exactly once
while tool and no-tool messages go through every process (SQLite, PostgreSQL with one process,
PostgreSQL with three)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from talkative.events.positions import at
from tests.conftest import TEST_SECRET, fresh_pg_database
from tests.e2e.server import ServerProcess
from tests.factories.agents import running_agent_sync
from tests.waiting import eventually_sync

TOOL_MESSAGE = "triage inbox now"
NO_TOOL_MESSAGE = "collect invoices then pay supplier"
MESSAGES = 48
SENDERS = 4
RECONNECT_S = 0.25


def _token() -> str:
    return mint_token(
        secret=TEST_SECRET, sub="e2e", role=Role.OPERATOR, tenant_id="acme", ttl=timedelta(hours=1)
    )


@pytest.fixture(params=[("sqlite", 1), ("postgresql", 1), ("postgresql", 3)], ids=lambda p: f"{p[0]}-{p[1]}")
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, list[ServerProcess]]]:
    backend, count = request.param
    sqlite = contextlib.nullcontext(f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}")
    with fresh_pg_database("talkative_sse") if backend == "postgresql" else sqlite as url:
        env = {
            "AUTH_JWT_SECRET": TEST_SECRET,
            "TALKATIVE_DATABASE_URL": url,
            "TALKATIVE_WORKSPACES_DIR": str(tmp_path / "workspaces"),  # shared by the processes
            "TALKATIVE_SSE_KEEPALIVE_S": "0.1",
        }
        servers: list[ServerProcess] = []
        try:
            for n in range(count):
                (tmp_path / f"server{n}").mkdir()
                servers.append(ServerProcess(data_dir=tmp_path / f"server{n}" / "data", env=env).start())
            yield url, servers
        finally:
            for server in servers:
                server.stop()


class ReconnectingReader:
    """Reads `GET /events` for a quarter of a second at a time, then reconnects (to the next
    process) with the last position it saw, like a browser on a flaky network."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.ids: list[int] = []
        self.positions: list[str] = []
        self.connections = 0
        self.broken = 0  # connections lost to a process that died or froze
        self.last = "0"  # from the first event of the (fresh) database on
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> ReconnectingReader:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {_token()}"}
        try:
            with httpx.Client(timeout=httpx.Timeout(10, read=3)) as client:
                while not self._stop.is_set():
                    url = self.urls[self.connections % len(self.urls)]
                    self.connections += 1
                    resume = {"Last-Event-ID": self.last}
                    try:
                        with client.stream("GET", f"{url}/events", headers=headers | resume) as response:
                            assert response.status_code == 200, response.read()
                            self._read(response, time.monotonic() + RECONNECT_S)
                    except httpx.TransportError:  # that process died or froze: on to the next one
                        self.broken += 1
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def _read(self, response: httpx.Response, until: float) -> None:
        position = ""
        for line in response.iter_lines():
            if line.startswith("id: "):
                position = line[4:]
            elif line.startswith("data: "):
                event_id = int(line.split('"id":', 1)[1].split(",", 1)[0])
                self.ids.append(event_id)
                self.positions.append(position)
                self.last = position
            if time.monotonic() > until or self._stop.is_set():
                return


def _stored_ids(url: str) -> set[int]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            return {row[0] for row in conn.execute("SELECT id FROM events WHERE tenant_id = 'acme'")}

    async def read() -> set[int]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return {row[0] for row in await conn.fetch("SELECT id FROM events WHERE tenant_id = 'acme'")}
        finally:
            await conn.close()

    return asyncio.run(read())


def test_a_reconnecting_subscriber_misses_no_event(cluster: tuple[str, list[ServerProcess]]) -> None:
    url, servers = cluster
    urls = [server.url for server in servers]
    headers = {"Authorization": f"Bearer {_token()}"}

    def send(sender: int) -> list[str]:
        statuses = []
        with httpx.Client(headers=headers, timeout=90) as http:
            for i in range(sender, MESSAGES, SENDERS):
                text = TOOL_MESSAGE if i % 2 else NO_TOOL_MESSAGE
                reply = http.post(f"{urls[i % len(urls)]}/agents/mixer/message", json={"message": text})
                assert reply.status_code == 200, reply.text
                statuses.append(reply.json()["run_status"])
        return statuses

    with ReconnectingReader(urls) as reader:
        with httpx.Client(base_url=urls[0], headers=headers, timeout=60) as http:
            running_agent_sync(http, "mixer", template="mail-triage")
        with ThreadPoolExecutor(SENDERS) as pool:
            statuses = [s for batch in pool.map(send, range(SENDERS)) for s in batch]
        stored = _stored_ids(url)
        eventually_sync(
            lambda: reader.error is not None or stored <= set(reader.ids),
            what=lambda: f"{len(stored - set(reader.ids))} of {len(stored)} events never reached the reader",
        )
    assert reader.error is None and reader.broken == 0, (reader.error, reader.broken)
    assert set(statuses) <= {"completed", "failed"} and len(statuses) == MESSAGES
    missed = stored - set(reader.ids)
    assert not missed, f"{len(missed)} of {len(stored)} events skipped"
    assert len(reader.ids) == len(set(reader.ids)), "an event was delivered twice"
    assert [at(p) for p in reader.positions] == sorted(at(p) for p in reader.positions)
    assert reader.connections > 1  # it did reconnect (every quarter of a second)
