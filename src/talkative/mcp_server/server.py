"""The MCP server: Talkative's agents, runs and approvals as tools and resources for MCP clients
(coding assistants, chat clients), over Streamable HTTP at `/mcp`.

Stateless (the 2026-07-28 protocol is; clients of the previous one get no session either), so
any process of a cluster answers any request. Every tool is one call of the HTTP API with the
caller's bearer token (bridge.py). `send_message` answers when the run ends, waits for an
approval, or after `TALKATIVE_MESSAGE_WAIT_S` with the run still running: a handle (`run_id`) to
poll with `get_run`, never a call held open for the length of a run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from talkative import __version__
from talkative.mcp_server.bridge import ApiBridge

INSTRUCTIONS = (
    "Talkative runs business-workflow agents. list_agents shows them; send_message gives one a task "
    "in plain language and answers with the run it started. A run waiting for a human approval shows "
    "it (list_approvals, decide_approval); get_run and list_runs follow runs; cancel_run stops one."
)
AgentId = Annotated[str, Field(min_length=1, max_length=64, description="The agent's id")]
RunId = Annotated[str, Field(min_length=1, max_length=64, description="A run's id (run_...)")]
Limit = Annotated[int, Field(ge=1, le=100)]


def build(bridge: ApiBridge) -> MCPServer:
    server: MCPServer = MCPServer("talkative", version=__version__, instructions=INSTRUCTIONS)

    def call(ctx: Context, method: str, path: str, **kwargs: Any) -> Any:
        return bridge.call(ctx.headers, method, path, **kwargs)

    @server.tool(description="The agents you can see, with their status and skills.")
    async def list_agents(ctx: Context) -> Any:
        return await call(ctx, "GET", "/agents")

    @server.tool(
        description=(
            "Send an agent a message in plain language. Answers with the reply, the run it started "
            "(run_id, run_status) and, when the run waits for a human, its approval. A run still "
            "running when this answers goes on: follow it with get_run."
        )
    )
    async def send_message(
        ctx: Context, agent_id: AgentId, message: Annotated[str, Field(min_length=1, max_length=8000)]
    ) -> Any:
        reply = await call(ctx, "POST", f"/agents/{agent_id}/message", json={"message": message})
        if isinstance(reply, dict) and reply.get("run_status") == "waiting_approval":
            pending = await call(
                ctx, "GET", "/approvals", params={"run_id": reply["run_id"], "status": "pending"}
            )
            reply["approvals"] = pending.get("approvals", []) if isinstance(pending, dict) else []
        return reply

    @server.tool(description="A run: its status, steps, timings, approvals, parent and child runs.")
    async def get_run(ctx: Context, run_id: RunId) -> Any:
        return await call(ctx, "GET", f"/orchestrator/runs/{run_id}")

    @server.tool(description="Runs, newest first; `before` is a page's next_before, to page back.")
    async def list_runs(
        ctx: Context,
        agent_id: AgentId | None = None,
        status: str | None = None,
        limit: Limit = 20,
        before: str | None = None,
    ) -> Any:
        params = {"agent_id": agent_id, "status": status, "limit": limit, "before": before}
        return await call(ctx, "GET", "/orchestrator/runs", params=params)

    @server.tool(description="Cancel a run that has not ended (operators and admins).")
    async def cancel_run(ctx: Context, run_id: RunId) -> Any:
        return await call(ctx, "POST", f"/orchestrator/runs/{run_id}/cancel")

    @server.tool(description="Approvals, pending first; filter by status or run.")
    async def list_approvals(
        ctx: Context,
        status: Literal["pending", "approved", "rejected", "cancelled", "expired"] | None = None,
        run_id: RunId | None = None,
        limit: Limit = 20,
    ) -> Any:
        params = {"status": status, "run_id": run_id, "limit": limit}
        return await call(ctx, "GET", "/approvals", params=params)

    @server.tool(description="Approve or reject a pending approval (operators and admins).")
    async def decide_approval(
        ctx: Context,
        approval_id: Annotated[str, Field(min_length=1, max_length=64)],
        decision: Literal["approved", "rejected"],
        note: Annotated[str, Field(max_length=2000)] | None = None,
    ) -> Any:
        body = {"decision": decision, "note": note}
        return await call(ctx, "POST", f"/approvals/{approval_id}/decision", json=body)

    @server.resource(
        "talkative://agents/{agent_id}/workflow",
        name="agent-workflow",
        description="An agent's workflow graph: its nodes, edges and version.",
        mime_type="application/json",
    )
    async def agent_workflow(agent_id: str, ctx: Context) -> Any:
        return await call(ctx, "GET", f"/agents/{agent_id}/workflow")

    @server.resource(
        "talkative://runs/{run_id}/events",
        name="run-events",
        description="A run's events in the order they happened (the newest page).",
        mime_type="application/json",
    )
    async def run_events(run_id: str, ctx: Context) -> Any:
        return await call(ctx, "GET", f"/orchestrator/runs/{run_id}/events")

    return server
