"""Network by declaration: a sandboxed run reaches an allowed host only through the egress proxy.

The allowed host is a real HTTP server on the host's loopback, which the operator names in the
private-address exception (as `TALKATIVE_EGRESS_ALLOW_PRIVATE` would); everything else the run
tries, directly or through the proxy, fails.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from talkative.tools.egress import EgressPolicy
from talkative.tools.schemas import ToolLimits, ToolResult
from talkative.tools.service import run_tool
from tests.http_origin import serve_origin

LIMITS = ToolLimits(timeout_s=20, cpu_s=10)
SCRIPT = """
import json, os, socket, urllib.request, urllib.error

def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return [response.status, response.read().decode()]
    except urllib.error.HTTPError as exc:
        return [exc.code, exc.read().decode()[:200]]
    except OSError as exc:
        return ["error", type(exc).__name__]

def direct(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3):
            return "connected"
    except OSError as exc:
        return type(exc).__name__

port = {port}
print(json.dumps({{
    "proxy": os.environ.get("HTTP_PROXY"),
    "allowed": fetch(f"http://127.0.0.1:{{port}}/hello"),
    "other_port": fetch(f"http://127.0.0.1:{{port + 1}}/"),
    "metadata": fetch("http://169.254.169.254/latest/meta-data/"),
    "direct": direct(port),
}}))
"""


@pytest.fixture
def origin() -> Iterator[int]:
    with serve_origin(lambda path: f"hello {path}".encode()) as port:
        yield port


async def _run(data: Path, port: int, egress: EgressPolicy | None) -> tuple[ToolResult, dict[str, Any]]:
    workspace = data / "workspaces" / "a"
    (workspace / "skills" / "demo" / "scripts" / "fetch.py").write_text(
        textwrap.dedent(SCRIPT.format(port=port))
    )
    result = await run_tool(
        workspace=workspace,
        command="python skills/demo/scripts/fetch.py",
        limits=LIMITS,
        hidden_paths=[data],
        egress=egress,
    )
    assert result.ok, result.stderr
    assert result.metrics.isolated, result.metrics
    return result, json.loads(result.stdout.strip().splitlines()[-1])


async def test_an_allowed_destination_is_reached_through_the_proxy_and_nothing_else(
    data_dir: Path, origin: int
) -> None:
    policy = EgressPolicy.build([f"127.0.0.1:{origin}"], private_allowed=["127.0.0.1"])

    result, seen = await _run(data_dir, origin, policy)

    assert seen["allowed"] == [200, "hello /hello"]
    assert seen["other_port"][0] == 403 and "not among" in seen["other_port"][1]
    assert seen["metadata"][0] == 403
    # The run's own loopback holds only the relay: the host's server is not there.
    assert seen["direct"] == "ConnectionRefusedError"
    assert len(result.metrics.egress_refused) == 2


async def test_without_an_allowance_the_run_has_no_network_and_no_proxy(data_dir: Path, origin: int) -> None:
    result, seen = await _run(data_dir, origin, None)

    assert seen["proxy"] is None
    assert seen["allowed"][0] == "error"  # no proxy, no route: the request never leaves the run
    assert seen["direct"] in ("PermissionError", "OSError")  # inet sockets denied by seccomp
    assert result.metrics.egress_refused == []


async def test_loopback_declared_but_not_named_by_the_operator_is_refused(
    data_dir: Path, origin: int
) -> None:
    policy = EgressPolicy.build([f"127.0.0.1:{origin}"])

    _result, seen = await _run(data_dir, origin, policy)

    assert seen["allowed"][0] == 403 and "non-public" in seen["allowed"][1]
