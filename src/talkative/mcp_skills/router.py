"""/mcp-servers: a tenant's admins register MCP servers and approve their tools; anyone in the
tenant reads them (never their credentials). `/agents/{id}/skills/mcp` makes a tool an agent's skill."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Response

from talkative.agents.dependencies import valid_agent
from talkative.agents.models import Agent
from talkative.auth.dependencies import McpAdmin, Reader
from talkative.db import Session
from talkative.deps import RuntimeDep
from talkative.errors import ERROR_RESPONSES
from talkative.mcp_skills import service
from talkative.mcp_skills.models import McpServer
from talkative.mcp_skills.schemas import (
    McpServerCreate,
    McpServerPage,
    McpServerRead,
    McpSkillAttach,
    McpSkillAttached,
    McpToolApprove,
    McpToolRead,
)
from talkative.mcp_skills.transports import Access

router = APIRouter(tags=["mcp-servers"], responses=ERROR_RESPONSES)
ServerId = Annotated[str, Path(min_length=1, max_length=64)]
ToolName = Annotated[str, Path(min_length=1, max_length=128)]


async def _readable(server_id: ServerId, session: Session, principal: Reader) -> McpServer:
    return await service.get(session, tenant_id=principal.tenant_filter, server_id=server_id)


async def _writable(server_id: ServerId, session: Session, principal: McpAdmin) -> McpServer:
    return await service.get(session, tenant_id=principal.tenant_filter, server_id=server_id)


ReadableServer = Annotated[McpServer, Depends(_readable)]
WritableServer = Annotated[McpServer, Depends(_writable)]


@router.post("/mcp-servers", status_code=201, operation_id="registerMcpServer")
async def register_mcp_server(
    body: McpServerCreate, session: Session, principal: McpAdmin, runtime: RuntimeDep
) -> McpServerRead:
    """Connects to the server and lists its tools; each tool's digest (name, description, input
    schema) is pinned as approved by the caller. The tenant is the token's; the credentials are
    kept server-side and never shown again. A `command` server is listed by running it in the
    sandbox of its home agent's workspace (`agent_id`, an agent of the token's tenant)."""
    tenant_id = principal.owning_tenant(None)
    workspace = None
    if body.command is not None and body.agent_id is not None:
        service.check_command(body.command)
        workspace = await service.home_workspace(
            runtime.sessionmaker, runtime.settings, tenant_id=tenant_id, agent_id=body.agent_id
        )
    server, tools = await service.register(
        session,
        runtime.settings,
        tenant_id=tenant_id,
        actor=principal.sub,
        body=body,
        limits=runtime.tool_limits,
        workspace=workspace,
    )
    return service.to_read(server, tools)


@router.get("/mcp-servers", operation_id="listMcpServers")
async def list_mcp_servers(session: Session, principal: Reader) -> McpServerPage:
    found = await service.list_servers(session, tenant_id=principal.tenant_filter)
    return McpServerPage(servers=[service.to_read(s, t) for s, t in found])


@router.get("/mcp-servers/{server_id}", operation_id="getMcpServer")
async def get_mcp_server(server: ReadableServer, session: Session) -> McpServerRead:
    return service.to_read(server, await service.tools_of(session, server))


@router.post("/mcp-servers/{server_id}/refresh", operation_id="refreshMcpServer")
async def refresh_mcp_server(
    server_id: ServerId, session: Session, principal: McpAdmin, runtime: RuntimeDep
) -> McpServerRead:
    """Lists the tools again (a `command` server in its home agent's workspace): a tool whose digest
    changed (or a new one; or every tool of a `command` server whose script's skill folder changed)
    is `changed`, and is not called until an admin approves it."""
    # How to reach it is read in a short transaction of its own: none is open during the listing.
    async with runtime.sessionmaker() as probe, probe.begin():
        found = await service.get(probe, tenant_id=principal.tenant_filter, server_id=server_id)
        access, tenant_id = Access.of(found), found.tenant_id
    workspace = await service.server_workspace(runtime.sessionmaker, runtime.settings, access, tenant_id)
    listed = await service.listing(runtime.settings, access, limits=runtime.tool_limits, workspace=workspace)
    server = await service.get(session, tenant_id=principal.tenant_filter, server_id=server_id)
    tools = await service.refresh(session, server, listed)
    return service.to_read(server, tools)


@router.post("/mcp-servers/{server_id}/tools/{tool}/approve", operation_id="approveMcpTool")
async def approve_mcp_tool(
    server: WritableServer,
    tool: ToolName,
    session: Session,
    principal: McpAdmin,
    body: Annotated[McpToolApprove | None, Body()] = None,
) -> McpToolRead:
    """Approves the tool as last listed. Skills attached at its previous digest stay refused until
    they are attached again (`POST /agents/{id}/skills/mcp`)."""
    approved = await service.approve(
        session, server=server, tool_name=tool, actor=principal.sub, digest=body.digest if body else None
    )
    return service.tool_read(approved)


@router.delete("/mcp-servers/{server_id}", status_code=204, operation_id="deleteMcpServer")
async def delete_mcp_server(server: WritableServer, session: Session) -> Response:
    await service.remove(session, server=server)
    return Response(status_code=204)


@router.post("/agents/{agent_id}/skills/mcp", tags=["agents"], operation_id="attachMcpSkill")
async def attach_mcp_skill(
    agent: Annotated[Agent, Depends(valid_agent)],
    body: McpSkillAttach,
    session: Session,
    principal: McpAdmin,
    runtime: RuntimeDep,
) -> McpSkillAttached:
    """Makes an approved tool of one of the tenant's MCP servers a skill of the agent, with its
    triggers and approval policy; the skill pins the tool's digest as approved now."""
    name, server, tool = await service.attach(
        session, agent=agent, body=body, actor=principal.sub, workspaces_dir=runtime.settings.workspaces_dir
    )
    assert tool.approved_digest is not None
    return McpSkillAttached(skillName=name, server=server.name, tool=tool.name, digest=tool.approved_digest)
