"""Stopping the server while browsers hold GET /events open: open streams are ended as shutdown
begins, so the process exits promptly (not after uvicorn's graceful timeout, when it would cancel
them) and logs no traceback (issue 17)."""

from __future__ import annotations

import signal
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest

from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.e2e
# Well under uvicorn's graceful timeout (10 s), after which it cancels what is still open.
EXIT_WITHIN_S = 6.0


def _open_stream(server: ServerProcess, token: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(f"GET /events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    received = b""
    while b"connected" not in received:
        chunk = sock.recv(4096)
        assert chunk, f"the stream closed before it started: {received!r}"
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received
    return sock


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_open_streams_do_not_hold_the_shutdown(tmp_path: Path, sig: signal.Signals) -> None:
    # Keep-alives far apart: nothing but the shutdown itself may end the streams in time.
    env = {"AUTH_JWT_SECRET": TEST_SECRET, "TALKATIVE_SSE_KEEPALIVE_S": "120"}
    server = ServerProcess(data_dir=tmp_path / "data", env=env).start()
    token = mint_token(secret=TEST_SECRET, sub="e2e", role=Role.ADMIN, tenant_id=None, ttl=timedelta(hours=1))
    streams = [_open_stream(server, token) for _ in range(2)]
    try:
        assert server.process is not None
        started = time.monotonic()
        server.process.send_signal(sig)
        server.process.wait(timeout=30)
        took = time.monotonic() - started
        log = server.output()
        assert took < EXIT_WITHIN_S, f"the server took {took:.1f} s to stop:\n{log[-3000:]}"
        assert "Traceback" not in log and "CancelledError" not in log, log[-3000:]
        for sock in streams:  # each stream was ended by the server, not cut
            sock.settimeout(5)
            rest = b""
            while chunk := sock.recv(65536):
                rest += chunk
            assert rest.endswith(b"0\r\n\r\n"), rest[-200:]
    finally:
        for sock in streams:
            sock.close()
        server.stop(signal.SIGKILL)
