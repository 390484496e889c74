"""A local (`command`) MCP server as skills, in real runs: its script sits in a skill folder of its
home agent's workspace, it is listed there in the real sandbox when registered, and a triggered
message runs its tool in the sandbox of the calling agent's workspace (gated, budgeted, its cost
in the ledger, refused once its script or its description changed until re-approved and attached
again). The server is written with the official MCP SDK. (Both databases: `database_url`.)"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import httpx

from talkative.settings import Settings
from tests.factories import Auth, Json
from tests.factories.agents import running_agent
from tests.factories.runs import send_message, wait_run

COMMAND = "python skills/crm/server.py"
COST_USD = 0.25

SERVER = '''
from typing import TypedDict

from mcp.server.mcpserver import MCPServer

app = MCPServer("crm")


class Found(TypedDict):
    answer: str
    cost_usd: float


@app.tool()
def lookup(text: str) -> Found:
    """{description}"""
    return {{"answer": f"found order for: {{text}}", "cost_usd": {cost}}}


app.run("stdio")
'''


def workspace_of(settings: Settings, agent: str) -> Path:
    return settings.workspaces_dir / "tenant-a" / agent


def place_server(settings: Settings, agent: str, description: str = "Looks up an order.") -> Path:
    """The SDK server's script in the agent's skill folder skills/crm."""
    script = workspace_of(settings, agent) / "skills" / "crm" / "server.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(textwrap.dedent(SERVER.format(description=description, cost=COST_USD)))
    return script


async def register(client: httpx.AsyncClient, auth: Auth, **body: object) -> httpx.Response:
    payload = {"name": "crm", "transport": "command", "command": COMMAND, "agent_id": "clerk", **body}
    return await client.post("/mcp-servers", json=payload, headers=auth("admin", sub="ada"))


async def attach(
    client: httpx.AsyncClient, auth: Auth, agent: str = "clerk", *, requires_approval: bool = False
) -> httpx.Response:
    body = {
        "server": "crm",
        "tool": "lookup",
        "triggers": ["lookup order"],
        "requires_approval": requires_approval,
    }
    return await client.post(f"/agents/{agent}/skills/mcp", json=body, headers=auth("admin", sub="ada"))


async def setup(
    client: httpx.AsyncClient, auth: Auth, settings: Settings, *, requires_approval: bool = False
) -> Json:
    """A running agent `clerk` holding the server, registered as `crm`, its `lookup` attached."""
    await running_agent(client, auth(), "clerk")
    place_server(settings, "clerk")
    registered = await register(client, auth)
    assert registered.status_code == 201, registered.text
    attached = await attach(client, auth, requires_approval=requires_approval)
    assert attached.status_code == 200, attached.text
    server: Json = registered.json()
    return server


def finished_events(run: Json) -> list[Json]:
    return [s for s in run["steps"] if s["type"] == "event" and s["name"] == "TOOL_RUN_FINISHED"]


async def run_of(client: httpx.AsyncClient, auth: Auth, text: str, status: str, agent: str = "clerk") -> Json:
    reply = await send_message(client, auth(), agent, text)
    return await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == status)


async def test_registering_lists_the_tools_in_the_sandbox_and_a_triggered_message_runs_the_tool(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    server = await setup(client, auth, settings)

    assert server["transport"] == "command" and server["command"] == COMMAND and server["agent_id"] == "clerk"
    [tool] = server["tools"]
    assert tool["name"] == "lookup" and tool["description"] == "Looks up an order."
    assert (
        tool["status"] == "approved"
        and tool["approved_digest"] == tool["digest"]
        and len(tool["digest"]) == 64
    )
    assert tool["input_schema"]["required"] == ["text"]

    done = await run_of(client, auth, "lookup order 42", "completed")

    [finished] = finished_events(done)
    assert finished["payload"]["ok"] is True and finished["payload"]["skill"] == "crm-lookup", finished
    assert "found order for: Lookup order 42" in finished["payload"]["stdout"]
    assert finished["payload"]["skillReport"]["cost_usd"] == COST_USD
    usage = (await client.get("/router/admin/usage", headers=auth("admin"))).json()
    rows = [r for r in usage["usage"] if r["model"] == "mcp:crm/lookup"]
    assert [(r["cost"], r["agent_id"], r["status"]) for r in rows] == [(COST_USD, "clerk", "ok")], usage


async def test_a_skill_that_requires_approval_runs_the_tool_only_once_approved(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await setup(client, auth, settings, requires_approval=True)

    reply = await send_message(client, auth(), "clerk", "lookup order 7")

    assert reply["run_status"] == "waiting_approval", reply
    gate = next(a for a in reply["actions"] if a["type"] == "human_approval_required")
    decided = await client.post(
        f"/approvals/{gate['detail']['approval_id']}/decision", json={"decision": "approved"}, headers=auth()
    )
    assert decided.status_code == 200, decided.text
    done = await wait_run(client, auth(), reply["run_id"], lambda r: r["status"] == "completed")
    assert "found order for: Lookup order 7" in finished_events(done)[0]["payload"]["stdout"]


async def test_a_spent_budget_refuses_the_next_call(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await setup(client, auth, settings)
    caps = {"agents": {"tenant-a": {"clerk": {"daily_cost_cap_usd": COST_USD / 2}}}}
    saved = await client.put("/router/admin/budgets", json=caps, headers=auth("admin", None))
    assert saved.status_code == 200, saved.text
    await run_of(client, auth, "lookup order 1", "completed")

    failed = await run_of(client, auth, "lookup order 2", "failed")

    assert finished_events(failed)[0]["payload"]["error"]["code"] == "BUDGET_EXCEEDED", failed


async def test_a_changed_script_or_description_is_refused_until_approved_and_attached_again(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    server = await setup(client, auth, settings)
    script = workspace_of(settings, "clerk") / "skills" / "crm" / "server.py"
    approved_digest = server["tools"][0]["digest"]
    tool_url = f"/mcp-servers/{server['id']}"

    for change in ("script", "description"):
        if change == "script":  # the same tool, listed the same, by a different program
            script.write_text(script.read_text() + "\n# and now something else\n")
        else:
            place_server(
                settings, "clerk", description="Looks up an order, then mails the customer table out."
            )

        failed = await run_of(client, auth, f"lookup order {change}", "failed")

        [finished] = finished_events(failed)
        assert finished["payload"]["error"]["code"] == "SKILL_UNTRUSTED", finished
        assert "found order" not in finished["payload"]["stdout"]
        listed = (await client.get(tool_url, headers=auth("viewer"))).json()
        [tool] = listed["tools"]
        assert tool["status"] == "changed" and tool["digest"] != approved_digest, tool
        refused = await attach(client, auth)
        assert refused.status_code == 409 and refused.json()["code"] == "MCP_TOOL_NOT_APPROVED"

        refreshed = await client.post(f"{tool_url}/refresh", headers=auth("admin"))
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["tools"][0]["digest"] == tool["digest"]  # the home agent's copy: the same
        approve = f"{tool_url}/tools/lookup/approve"
        approved = await client.post(approve, json={"digest": tool["digest"]}, headers=auth("admin"))
        assert approved.status_code == 200, approved.text
        again = await run_of(client, auth, "lookup order 4", "failed")  # the skill pins the old digest
        assert finished_events(again)[0]["payload"]["error"]["code"] == "SKILL_UNTRUSTED"

        attached = await attach(client, auth)
        assert attached.status_code == 200 and attached.json()["digest"] == tool["digest"], attached.text
        done = await run_of(client, auth, "lookup order 5", "completed")
        assert "found order for: Lookup order 5" in finished_events(done)[0]["payload"]["stdout"]
        approved_digest = tool["digest"]


async def test_refreshing_needs_the_home_agent(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    server = await setup(client, auth, settings)
    assert (await client.post("/agents/clerk/stop", headers=auth())).status_code == 200
    removed = await client.delete("/agents/clerk", headers=auth("admin"))
    assert removed.status_code == 204, removed.text

    refreshed = await client.post(f"/mcp-servers/{server['id']}/refresh", headers=auth("admin"))

    assert refreshed.status_code == 422 and refreshed.json()["code"] == "MCP_HOME_AGENT_GONE", refreshed.text


async def test_another_agent_gets_the_tool_only_if_its_workspace_holds_the_same_server(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await setup(client, auth, settings)
    await running_agent(client, auth(), "helper")

    missing = await attach(client, auth, "helper")

    assert missing.status_code == 422 and missing.json()["code"] == "MCP_SERVER_NOT_IN_WORKSPACE", (
        missing.text
    )
    assert "skills/crm" in missing.json()["error"]
    place_server(settings, "helper", description="Something else entirely.")
    different = await attach(client, auth, "helper")
    assert different.status_code == 422 and different.json()["code"] == "MCP_SERVER_NOT_IN_WORKSPACE"

    shutil.rmtree(workspace_of(settings, "helper") / "skills" / "crm")
    shutil.copytree(
        workspace_of(settings, "clerk") / "skills" / "crm",
        workspace_of(settings, "helper") / "skills" / "crm",
    )
    same = await attach(client, auth, "helper")
    assert same.status_code == 200, same.text
    done = await run_of(client, auth, "lookup order 8", "completed", agent="helper")
    assert "found order for: Lookup order 8" in finished_events(done)[0]["payload"]["stdout"]


async def test_registration_refuses_a_command_outside_skills_another_tenants_agent_and_a_missing_script(
    client: httpx.AsyncClient, auth: Auth, settings: Settings
) -> None:
    await running_agent(client, auth(), "clerk")
    await running_agent(client, auth(tenant="tenant-b"), "rival")
    place_server(settings, "clerk")
    (workspace_of(settings, "clerk") / "server.py").write_text("print('not a skill')\n")

    for command in (
        "python server.py",
        "python /etc/server.py",
        "python skills/../server.py",
        "bash skills/crm/x.sh",
    ):
        outside = await register(client, auth, command=command)
        assert outside.status_code == 422 and outside.json()["code"] == "MCP_COMMAND_REFUSED", (
            command,
            outside.text,
        )

    foreign = await register(client, auth, agent_id="rival")
    assert foreign.status_code == 404, foreign.text
    missing = await register(client, auth, command="python skills/nothing/server.py")
    assert missing.status_code == 422 and missing.json()["code"] == "MCP_SERVER_UNREACHABLE", missing.text
    assert "skills/nothing" in missing.json()["error"]
    listed = (await client.get("/mcp-servers", headers=auth("admin"))).json()
    assert listed["servers"] == []

    other_tenant = await client.post(
        "/mcp-servers",
        json={"name": "crm", "transport": "command", "command": COMMAND, "agent_id": "clerk"},
        headers=auth("admin", tenant="tenant-b"),
    )
    assert other_tenant.status_code == 404, other_tenant.text  # tenant-b has no agent clerk
