"""GET /events streams on a real server: a client that leaves is noticed at once, not at the next
keep-alive (which is set far beyond this test), and its subscription is gone."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess
from tests.factories.agents import running_agent_sync
from tests.waiting import eventually_sync

pytestmark = pytest.mark.e2e
GAUGE = re.compile(r"^talkative_sse_subscribers (\S+)$", re.MULTILINE)


# Keep-alives far beyond the test: only noticing the disconnect can drop a subscriber in time.
SERVER_ENV = {"TALKATIVE_SSE_KEEPALIVE_S": "120"}


def _subscribers(server: ServerProcess) -> float:
    found = GAUGE.search(httpx.get(f"{server.url}/metrics", timeout=10).text)
    assert found, "the subscriber gauge is missing from /metrics"
    return float(found.group(1))


def _eventually(server: ServerProcess, expected: float) -> None:
    eventually_sync(
        lambda: _subscribers(server) == expected,
        what=lambda: f"subscribers stayed at {_subscribers(server)}, not {expected}",
    )


@contextmanager
def _raw_stream(server: ServerProcess, token: str) -> Iterator[socket.socket]:
    """A bare subscriber whose socket really closes when it leaves (httpx's blocked reader
    thread would keep it open until the next keep-alive)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET /events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head
        yield sock


def _read_until(sock: socket.socket, needle: bytes, within_s: float = 10.0) -> bytes:
    received = b""
    deadline = time.monotonic() + within_s
    while needle not in received:
        assert time.monotonic() < deadline, f"{needle!r} never arrived; got {received[-300:]!r}"
        received += sock.recv(65536)
    return received


def test_streams_deliver_and_a_client_that_leaves_is_dropped_at_once(server: ServerProcess) -> None:
    admin = mint_token(secret=TEST_SECRET, sub="e2e", role=Role.ADMIN, tenant_id=None, ttl=timedelta(hours=1))
    headers = {"Authorization": f"Bearer {admin}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        running_agent_sync(http, "streamer")
        _eventually(server, 0)
        with _raw_stream(server, admin) as staying:
            with _raw_stream(server, admin), _raw_stream(server, admin):
                _eventually(server, 3)
            _eventually(server, 1)  # the two that left, long before any keep-alive
            run_id = http.post("/agents/streamer/message", json={"message": "plan the week"}).json()["run_id"]
            received = _read_until(staying, b'"RUN_COMPLETED"')
            assert f'"run_id":"{run_id}"'.encode() in received
        _eventually(server, 0)
