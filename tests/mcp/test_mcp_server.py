"""The MCP server at /mcp, driven by the official SDK's client against a real server process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.streamable_http import streamable_http_client
from mcp_types import TextResourceContents

from mcp import Client
from talkative.auth.principal import Role
from talkative.auth.tokens import mint_token
from tests.conftest import TEST_SECRET
from tests.e2e.server import ServerProcess
from tests.factories.agents import running_agent_sync

pytestmark = pytest.mark.e2e
SENSITIVE = "triage my inbox then transfer funds to supplier"


def token(role: str = "operator", tenant: str | None = "acme") -> str:
    return mint_token(
        secret=TEST_SECRET, sub=f"mcp-{role}", role=Role(role), tenant_id=tenant, ttl=timedelta(hours=1)
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        data_dir=tmp_path_factory.mktemp("mcp") / "data", env={"AUTH_JWT_SECRET": TEST_SECRET}
    ).start()
    headers = {"Authorization": f"Bearer {token()}"}
    with httpx.Client(base_url=process.url, headers=headers, timeout=60) as http:
        running_agent_sync(http, "mailer", template="mail-triage")
    yield process
    process.stop()


@asynccontextmanager
async def connect(server: ServerProcess, bearer: str | None, mode: str = "auto") -> AsyncIterator[Client]:
    """The SDK's client over Streamable HTTP, with the bearer token on every request."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    async with httpx2.AsyncClient(headers=headers) as http:
        transport = streamable_http_client(f"{server.url}/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


def body(result: Any) -> Any:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


def text_of(read: Any) -> str:
    (content,) = read.contents
    assert isinstance(content, TextResourceContents), content
    return content.text


def error_text(result: Any) -> str:
    assert result.is_error, result.content
    return str(result.content[0].text)


def test_an_operator_sends_a_message_approves_it_and_reads_the_finished_run(server: ServerProcess) -> None:
    async def journey() -> None:
        async with connect(server, token()) as client:
            assert client.protocol_version == "2026-07-28"
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert names == {
                "list_agents",
                "send_message",
                "get_run",
                "list_runs",
                "cancel_run",
                "list_approvals",
                "decide_approval",
            }
            agents = body(await client.call_tool("list_agents", {}))["agents"]
            assert [a["id"] for a in agents] == ["mailer"]

            sent = body(await client.call_tool("send_message", {"agent_id": "mailer", "message": SENSITIVE}))
            assert sent["run_status"] == "waiting_approval", sent
            (approval,) = sent["approvals"]
            assert approval["status"] == "pending"

            decided = body(
                await client.call_tool(
                    "decide_approval", {"approval_id": approval["id"], "decision": "approved", "note": "ok"}
                )
            )
            assert decided["status"] == "approved"
            for _ in range(100):
                run = body(await client.call_tool("get_run", {"run_id": sent["run_id"]}))
                if run["status"] == "completed":
                    break
                await asyncio.sleep(0.1)
            assert run["status"] == "completed", run
            listed = body(await client.call_tool("list_runs", {"agent_id": "mailer"}))
            assert sent["run_id"] in [r["run_id"] for r in listed["runs"]]

            events = await client.read_resource(f"talkative://runs/{sent['run_id']}/events")
            types = [e["type"] for e in json.loads(text_of(events))["events"]]
            assert {"APPROVAL_REQUESTED", "APPROVAL_DECIDED", "TOOL_RUN_FINISHED"} <= set(types), types
            workflow = await client.read_resource("talkative://agents/mailer/workflow")
            assert json.loads(text_of(workflow))

    asyncio.run(journey())


def test_a_viewer_reads_but_may_not_decide_or_cancel(server: ServerProcess) -> None:
    async def journey() -> None:
        async with connect(server, token()) as operator:
            sent = body(
                await operator.call_tool("send_message", {"agent_id": "mailer", "message": SENSITIVE})
            )
            (approval,) = sent["approvals"]
        async with connect(server, token("viewer")) as viewer:
            assert (
                body(await viewer.call_tool("get_run", {"run_id": sent["run_id"]}))["status"]
                == "waiting_approval"
            )
            refused = error_text(
                await viewer.call_tool(
                    "decide_approval", {"approval_id": approval["id"], "decision": "approved"}
                )
            )
            assert "ROLE_FORBIDDEN" in refused
            assert "ROLE_FORBIDDEN" in error_text(
                await viewer.call_tool("cancel_run", {"run_id": sent["run_id"]})
            )
        async with connect(server, token()) as operator:
            cancelled = body(await operator.call_tool("cancel_run", {"run_id": sent["run_id"]}))
            assert cancelled["status"] == "cancelled"

    asyncio.run(journey())


def test_another_tenants_runs_and_agents_are_invisible(server: ServerProcess) -> None:
    async def journey() -> None:
        async with connect(server, token()) as operator:
            sent = body(
                await operator.call_tool(
                    "send_message", {"agent_id": "mailer", "message": "triage inbox now"}
                )
            )
        async with connect(server, token(tenant="globex")) as stranger:
            assert body(await stranger.call_tool("list_agents", {}))["agents"] == []
            assert "NOT_FOUND" in error_text(await stranger.call_tool("get_run", {"run_id": sent["run_id"]}))
            assert body(await stranger.call_tool("list_runs", {}))["runs"] == []
            assert "NOT_FOUND" in error_text(
                await stranger.call_tool("send_message", {"agent_id": "mailer", "message": "hello"})
            )

    asyncio.run(journey())


def test_the_previous_protocol_works_too(server: ServerProcess) -> None:
    async def journey() -> None:
        async with connect(server, token(), mode="legacy") as client:
            assert client.protocol_version != "2026-07-28"
            agents = body(await client.call_tool("list_agents", {}))["agents"]
            assert [a["id"] for a in agents] == ["mailer"]

    asyncio.run(journey())


def test_no_token_no_mcp(server: ServerProcess, tmp_path: Path) -> None:
    answer = httpx.post(
        f"{server.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"Accept": "application/json, text/event-stream"},
    )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    forged = mint_token(
        secret="x" * 40, sub="forger", role=Role.ADMIN, tenant_id=None, ttl=timedelta(hours=1)
    )
    answer = httpx.post(
        f"{server.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
        headers={"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {forged}"},
    )
    assert answer.status_code == 401
