"""A tenant's MCP servers: registering one (its tools' digests pinned as approved by the admin who
registered it), refreshing its listing (a changed tool waits for re-approval), approving, removing,
and turning one of its tools into a skill of an agent.

An MCP skill is an ordinary skill folder whose SKILL.md has `mcp: {server, tool, digest}` instead
of a command: it is listed, matched by its triggers, gated by `requires_approval` and pinned like
any other skill (agents.service); the step that runs it calls the tool (execute.py).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.agents import service as agents
from talkative.agents.exceptions import AgentNotFound
from talkative.agents.models import Agent
from talkative.db import utcnow
from talkative.errors import Conflict, InvalidInput, NotFound
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.mcp_skills import local, transports
from talkative.mcp_skills.client import McpFailure, ToolInfo
from talkative.mcp_skills.models import McpServer, McpTool, Transport
from talkative.mcp_skills.schemas import McpServerCreate, McpServerRead, McpSkillAttach, McpToolRead
from talkative.mcp_skills.transports import Access
from talkative.settings import Settings
from talkative.skills import catalogue
from talkative.skills.install import install_skill
from talkative.skills.manifest import NAME_PATTERN, SKILL_FILE, InvalidSkill, load_skill
from talkative.tools.schemas import ToolLimits
from talkative.webhooks import targets
from talkative.workspaces import resolve

MAX_SKILL_DESCRIPTION = 1024


class McpServerNotFound(NotFound):
    code = "MCP_SERVER_NOT_FOUND"


class McpToolNotFound(NotFound):
    code = "MCP_TOOL_NOT_FOUND"


class McpServerExists(Conflict):
    code = "MCP_SERVER_EXISTS"


class McpToolNotApproved(Conflict):
    code = "MCP_TOOL_NOT_APPROVED"


class McpServerUnreachable(InvalidInput):
    code = "MCP_SERVER_UNREACHABLE"


class McpUrlRefused(InvalidInput):
    code = "MCP_URL_REFUSED"


class McpCommandRefused(InvalidInput):
    code = "MCP_COMMAND_REFUSED"


class McpServerNotInWorkspace(InvalidInput):
    code = "MCP_SERVER_NOT_IN_WORKSPACE"


class McpHomeAgentGone(InvalidInput):
    code = "MCP_HOME_AGENT_GONE"


def tool_read(tool: McpTool) -> McpToolRead:
    return McpToolRead(
        name=tool.name,
        description=tool.description,
        input_schema=tool.input_schema,
        digest=tool.digest,
        approved_digest=tool.approved_digest,
        status="approved" if tool.approved else "changed",
        approved_by=tool.approved_by,
        approved_at=tool.approved_at,
        changed_at=tool.changed_at,
    )


def to_read(server: McpServer, tools: Sequence[McpTool]) -> McpServerRead:
    return McpServerRead(
        id=server.id,
        tenant_id=server.tenant_id,
        name=server.name,
        transport=server.transport,
        url=server.url,
        command=server.command,
        agent_id=server.agent_id,
        credential_headers=sorted(server.credentials),
        created_by=server.created_by,
        created_at=server.created_at,
        tools=[tool_read(t) for t in sorted(tools, key=lambda t: t.name)],
    )


def _event(tenant_id: str, type_: EventType, message: str, payload: dict[str, object]) -> NewEvent:
    return NewEvent(type=type_, tenant_id=tenant_id, message=message, payload=payload)


async def home_workspace(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *, tenant_id: str, agent_id: str
) -> Path:
    """The workspace of a `command` server's home agent (in the tenant; 404 if none), read in a
    short transaction of its own (none may be open while the server runs)."""
    async with sessionmaker() as probe, probe.begin():
        agent = await agents.get_agent(session=probe, tenant_id=tenant_id, agent_id=agent_id)
    return resolve(settings.workspaces_dir, agent.workspace)


async def server_workspace(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, server: Access, tenant_id: str
) -> Path | None:
    """Where `server` is listed (refresh): its home agent's workspace for a `command` server."""
    if server.transport != Transport.COMMAND:
        return None
    if server.agent_id is None:
        raise McpHomeAgentGone(f"MCP server '{server.name}' has no home agent")
    try:
        return await home_workspace(sessionmaker, settings, tenant_id=tenant_id, agent_id=server.agent_id)
    except AgentNotFound:
        raise McpHomeAgentGone(
            f"the home agent '{server.agent_id}' of MCP server '{server.name}' no longer exists; "
            "register the server again with another agent"
        ) from None


def check_command(command: str) -> None:
    problem = local.command_problem(command)
    if problem is not None:
        raise McpCommandRefused(f"the MCP server's command is refused: {problem}")


async def listing(
    settings: Settings, access: Access, *, limits: ToolLimits, workspace: Path | None = None
) -> list[ToolInfo]:
    """The server's tools now; 422 when it cannot say. Call it outside any transaction: on SQLite a
    transaction holds the process's one writer gate, which no network call (or sandboxed run of a
    `command` server, in `workspace`) may keep."""
    try:
        return await transports.list_tools(settings, access, limits=limits, workspace=workspace)
    except McpFailure as exc:
        if str(exc).startswith("refused:"):
            raise McpUrlRefused(f"the MCP server's URL is refused: {exc}") from None
        raise McpServerUnreachable(
            f"the MCP server '{access.name}' could not list its tools: {exc}"
        ) from None


async def register(
    session: AsyncSession,
    settings: Settings,
    *,
    tenant_id: str,
    actor: str,
    body: McpServerCreate,
    limits: ToolLimits,
    workspace: Path | None = None,
) -> tuple[McpServer, list[McpTool]]:
    """Connects, lists the tools and stores the server with every tool approved as listed now (the
    listing comes first: the request's transaction starts only after it). A `command` server is
    listed in `workspace`, its home agent's (`home_workspace`)."""
    if body.url is not None:
        try:
            targets.parse(body.url)
        except targets.TargetRefused as exc:
            raise McpUrlRefused(f"the MCP server's URL is refused: {exc}") from None
    server = McpServer(
        id=f"mcp_{secrets.token_hex(8)}",
        tenant_id=tenant_id,
        name=body.name,
        transport=body.transport.value,
        url=body.url,
        command=body.command,
        agent_id=body.agent_id,
        credentials=dict(body.credentials),
        created_by=actor,
        created_at=utcnow(),
    )
    if body.command is not None:
        check_command(body.command)
    listed = await listing(settings, Access.of(server), limits=limits, workspace=workspace)
    taken = await session.scalar(
        select(McpServer.id).where(McpServer.tenant_id == tenant_id, McpServer.name == body.name)
    )
    if taken is not None:
        raise McpServerExists(f"this tenant already has an MCP server named '{body.name}'")
    now = utcnow()
    session.add(server)
    await session.flush()
    tools = [
        McpTool(
            server_id=server.id,
            name=info.name,
            description=info.description,
            input_schema=info.input_schema,
            digest=info.digest,
            approved_digest=info.digest,
            approved_by=actor,
            approved_at=now,
            seen_at=now,
        )
        for info in listed
    ]
    session.add_all(tools)
    payload: dict[str, object] = {
        "server": server.name,
        "serverId": server.id,
        "transport": server.transport,
        "url": server.url,
        "command": server.command,
        "agentId": server.agent_id,
        "tools": [t.name for t in tools],
    }
    await events.append(
        session,
        [_event(tenant_id, EventType.MCP_SERVER_REGISTERED, f"MCP server {server.name} registered", payload)],
    )
    await session.flush()
    return server, tools


async def list_servers(
    session: AsyncSession, *, tenant_id: str | None
) -> list[tuple[McpServer, list[McpTool]]]:
    query = select(McpServer).order_by(McpServer.created_at, McpServer.id).limit(1000)
    if tenant_id is not None:
        query = query.where(McpServer.tenant_id == tenant_id)
    servers = list((await session.scalars(query)).all())
    return [(s, await tools_of(session, s)) for s in servers]


async def get(session: AsyncSession, *, tenant_id: str | None, server_id: str) -> McpServer:
    server = await session.get(McpServer, server_id)
    if server is None or (tenant_id is not None and server.tenant_id != tenant_id):
        raise McpServerNotFound(f"MCP server '{server_id}' not found")
    return server


async def by_name(session: AsyncSession, *, tenant_id: str, name: str) -> McpServer:
    server = await session.scalar(
        select(McpServer).where(McpServer.tenant_id == tenant_id, McpServer.name == name)
    )
    if server is None:
        raise McpServerNotFound(f"this tenant has no MCP server named '{name}'")
    return server


async def tools_of(session: AsyncSession, server: McpServer) -> list[McpTool]:
    query = select(McpTool).where(McpTool.server_id == server.id).order_by(McpTool.name)
    return list((await session.scalars(query)).all())


async def tool_of(session: AsyncSession, server: McpServer, name: str) -> McpTool:
    tool = await session.get(McpTool, (server.id, name))
    if tool is None:
        raise McpToolNotFound(f"MCP server '{server.name}' has no tool '{name}'")
    return tool


def _changed_event(server: McpServer, tool: McpTool) -> NewEvent:
    payload: dict[str, object] = {
        "server": server.name,
        "serverId": server.id,
        "tool": tool.name,
        "digest": tool.digest,
        "approvedDigest": tool.approved_digest,
    }
    message = f"MCP tool {server.name}/{tool.name} changed: not used until an admin approves it again"
    return _event(server.tenant_id, EventType.MCP_TOOL_CHANGED, message, payload)


def _see(tool: McpTool, info: ToolInfo, now: datetime) -> bool:
    """Records the listing `info` of the tool; True if this is the first sight of a change."""
    newly_changed = info.digest != tool.digest and info.digest != tool.approved_digest
    tool.description, tool.input_schema, tool.digest, tool.seen_at = (
        info.description,
        info.input_schema,
        info.digest,
        now,
    )
    if tool.approved:
        tool.changed_at = None
    elif tool.changed_at is None or newly_changed:
        tool.changed_at = now
    return newly_changed


async def refresh(session: AsyncSession, server: McpServer, listed: Sequence[ToolInfo]) -> list[McpTool]:
    """Records a new listing of the tools (`listing`): a tool whose digest changed is marked changed
    (and not called until re-approved); a new tool waits for approval too; a tool no longer listed
    is forgotten."""
    now = utcnow()
    known = {t.name: t for t in await tools_of(session, server)}
    trail: list[NewEvent] = []
    for info in listed:
        tool = known.pop(info.name, None)
        if tool is None:
            tool = McpTool(
                server_id=server.id,
                name=info.name,
                description=info.description,
                input_schema=info.input_schema,
                digest=info.digest,
                approved_digest=None,
                seen_at=now,
                changed_at=now,
            )
            session.add(tool)
            trail.append(_changed_event(server, tool))
        elif _see(tool, info, now):
            trail.append(_changed_event(server, tool))
    for gone in known.values():
        await session.delete(gone)
    if trail:
        await events.append(session, trail)
    await session.flush()
    return await tools_of(session, server)


async def mark_seen(session: AsyncSession, *, server_id: str, info: ToolInfo | None, tool_name: str) -> None:
    """What a step saw right before a call it then refused: the tool's new listing (or that it is
    gone), recorded as changed-awaiting-approval."""
    server = await session.get(McpServer, server_id)
    tool = await session.get(McpTool, (server_id, tool_name))
    if server is None or tool is None:
        return
    if info is None:
        await session.delete(tool)
        return
    if _see(tool, info, utcnow()):
        await events.append(session, [_changed_event(server, tool)])


async def approve(
    session: AsyncSession, *, server: McpServer, tool_name: str, actor: str, digest: str | None
) -> McpTool:
    """Approves the tool as last listed (`digest`, if given, must be that listing's)."""
    tool = await tool_of(session, server, tool_name)
    if digest is not None and digest != tool.digest:
        raise Conflict(
            f"MCP tool {server.name}/{tool.name} was listed again with digest {tool.digest}; review it first",
            code="MCP_TOOL_DIGEST_MISMATCH",
        )
    tool.approved_digest, tool.approved_by, tool.approved_at, tool.changed_at = (
        tool.digest,
        actor,
        utcnow(),
        None,
    )
    payload: dict[str, object] = {
        "server": server.name,
        "serverId": server.id,
        "tool": tool.name,
        "digest": tool.digest,
    }
    message = f"MCP tool {server.name}/{tool.name} approved (skills attached before must be attached again)"
    await events.append(session, [_event(server.tenant_id, EventType.MCP_TOOL_APPROVED, message, payload)])
    await session.flush()
    return tool


async def remove(session: AsyncSession, *, server: McpServer) -> None:
    """Removes the server and its tools; its skills stay in workspaces but can no longer call it."""
    await session.execute(delete(McpTool).where(McpTool.server_id == server.id))
    payload: dict[str, object] = {"server": server.name, "serverId": server.id}
    await events.append(
        session,
        [
            _event(
                server.tenant_id, EventType.MCP_SERVER_REMOVED, f"MCP server {server.name} removed", payload
            )
        ],
    )
    await session.delete(server)
    await session.flush()


def skill_name_for(server: str, tool: str) -> str:
    """`<server>-<tool>` as a slug (64 characters at most)."""
    words = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in f"{server}-{tool}".lower())
    slug = "-".join(part for part in words.split("-") if part)[:64].strip("-")
    if not NAME_PATTERN.fullmatch(slug):
        raise InvalidInput(f"no skill name can be made of '{server}-{tool}'; give one as `name`")
    return slug


def skill_md(name: str, server: McpServer, tool: McpTool, body: McpSkillAttach) -> str:
    """The SKILL.md of an MCP skill: the tool it calls, the digest it calls it at, its policy."""
    first_line = next((line.strip() for line in tool.description.splitlines() if line.strip()), "")
    description = (first_line or f"MCP tool {tool.name} of server {server.name}")[:MAX_SKILL_DESCRIPTION]
    front: dict[str, Any] = {
        "name": name,
        "description": description,
        "mcp": {"server": server.name, "tool": tool.name, "digest": tool.approved_digest},
        "triggers": list(body.triggers),
        "requires_approval": body.requires_approval,
    }
    schema = json.dumps(tool.input_schema, indent=2, sort_keys=True, ensure_ascii=False)
    return (
        "---\n"
        + yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
        + "---\n\n"
        + f"# {name}\n\nCalls the tool `{tool.name}` of the MCP server `{server.name}` "
        "(attached by an admin; generated, do not edit: a changed file is not run until attached again).\n\n"
        + (f"{tool.description.strip()}\n\n" if tool.description.strip() else "")
        + f"Input schema:\n\n```json\n{schema}\n```\n"
    )


async def attach(
    session: AsyncSession, *, agent: Agent, body: McpSkillAttach, actor: str, workspaces_dir: Path
) -> tuple[str, McpServer, McpTool]:
    """Writes the tool's skill into the agent's workspace and pins it (agents.service), so it is
    listed, matched and gated like any other skill. The tool must be approved as last listed."""
    server = await by_name(session, tenant_id=agent.tenant_id, name=body.server)
    tool = await tool_of(session, server, body.tool)
    if not tool.approved:
        raise McpToolNotApproved(
            f"MCP tool {server.name}/{tool.name} changed since it was approved; "
            "an admin must approve it first"
        )
    workspace = resolve(workspaces_dir, agent.workspace)
    if server.transport == Transport.COMMAND:
        await asyncio.to_thread(_check_holds, Access.of(server), tool, workspace, agent.id)
    name = body.name or skill_name_for(server.name, tool.name)
    try:
        catalogue.get_template(name)
    except catalogue.SkillNotFound:
        pass
    else:
        raise Conflict(
            f"'{name}' is the name of a bundled template; give the skill another `name`",
            code="SKILL_NAME_TAKEN",
        )
    existing = workspace / "skills" / name / SKILL_FILE
    if existing.is_file():
        try:
            mine = load_skill(existing.parent).manifest.mcp is not None
        except InvalidSkill:
            mine = False
        if not mine:
            raise Conflict(
                f"the workspace already has a skill '{name}' that is not an MCP skill",
                code="SKILL_NAME_TAKEN",
            )
    with tempfile.TemporaryDirectory(prefix=".mcp-skill-") as staging:
        folder = Path(staging) / name
        folder.mkdir()
        (folder / SKILL_FILE).write_text(skill_md(name, server, tool, body), encoding="utf-8")
        try:
            skill = load_skill(folder)
        except InvalidSkill as exc:
            raise InvalidInput(
                f"the skill made for this tool is invalid: {exc}", code="INVALID_SKILL"
            ) from None
        install_skill(workspace=workspace, skill=skill)
    await agents.attach_skill(
        session=session, agent=agent, skill_name=name, workspaces_dir=workspaces_dir, actor=actor
    )
    return name, server, tool


def _check_holds(access: Access, tool: McpTool, workspace: Path, agent_id: str) -> None:
    """A `command` server's tool runs in the calling agent's workspace: that workspace must hold the
    server's skill folder exactly as it was when the tool was approved."""
    try:
        _command, source = transports.source_digest(access, workspace)
    except McpFailure:
        source = None
    info = ToolInfo(tool.name, tool.description, tool.input_schema, source)
    if source is None or info.digest != tool.approved_digest:
        folder = transports.skill_folder_of(access.command or "")
        raise McpServerNotInWorkspace(
            f"MCP server '{access.name}' runs in the calling agent's workspace: agent '{agent_id}' must hold "
            f"its skill folder {folder} as approved (missing or different there)"
        )


async def approved_tool(
    session: AsyncSession, *, tenant_id: str, server_name: str, tool_name: str
) -> tuple[Access, McpTool] | None:
    """The server (how to reach it) and the tool row, if both still exist in the tenant."""
    server = await session.scalar(
        select(McpServer).where(McpServer.tenant_id == tenant_id, McpServer.name == server_name)
    )
    if server is None:
        return None
    tool = await session.get(McpTool, (server.id, tool_name))
    return None if tool is None else (Access.of(server), tool)
