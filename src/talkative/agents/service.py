"""Agent registry logic; callers pass the tenant scope derived from the token."""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.agents.exceptions import AgentAmbiguous, AgentExists, AgentNotFound, WorkspaceTaken
from talkative.agents.models import Agent, AgentSkill, AgentStatus
from talkative.agents.schemas import AgentCreate, AgentRead, AgentUpdate
from talkative.agents.workspace import create_workspace, relative_path, tenant_folder, write_config
from talkative.db import db_now, newest_last, utcnow
from talkative.errors import Conflict, InvalidInput
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.skills import catalogue, pins
from talkative.skills.install import InstallError, InstallResult, install_skill
from talkative.skills.manifest import InvalidSkill, Skill
from talkative.skills.schemas import SkillPage, SkillRead, skill_read
from talkative.workspaces import resolve

MAX_SLUG_BASE = 48


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_SLUG_BASE].strip("-")
    return slug or "agent"


def to_read(agent: Agent) -> AgentRead:
    return AgentRead(
        id=agent.id,
        agent_id=agent.id,
        tenant_id=agent.tenant_id,
        name=agent.name,
        status=AgentStatus.RUNNING if agent.status == AgentStatus.RUNNING else AgentStatus.STOPPED,
        workspace=agent.workspace,
        heartbeatMinutes=agent.heartbeat_minutes,
        lastHeartbeatAt=agent.last_heartbeat_at,
        lastMessageAt=agent.last_message_at,
        lastMessage=agent.last_message,
        createdAt=agent.created_at,
        updatedAt=agent.updated_at,
    )


async def _free_id(session: AsyncSession, tenant_id: str, base: str) -> str:
    """`base`, or `base` with a suffix if the tenant has it already (other tenants' ids don't count)."""
    candidate = base
    while await session.get(Agent, (tenant_id, candidate)) is not None:
        candidate = f"{base}-{secrets.token_hex(2)}"
    return candidate


@dataclass(frozen=True, slots=True)
class NewAgent:
    """An agent row just added, with the template its workspace starts from (by the name asked for)."""

    agent: Agent
    template_name: str | None
    template: Skill | None


async def add_agent(*, session: AsyncSession, tenant_id: str, data: AgentCreate) -> NewAgent:
    """Adds the agent's row in `tenant_id`: the first part of creating an agent, `open_workspace`
    the last (`agents.flows.create_agent` is the whole, the agent's workflow and prompt between).
    Ids and workspace folders are only unique within a tenant, so nothing here depends on (or
    tells) what other tenants hold."""
    if data.id is not None:
        agent_id = data.id
        if await session.get(Agent, (tenant_id, agent_id)) is not None:
            raise AgentExists(agent_id)
    else:
        agent_id = await _free_id(session, tenant_id, slugify(data.name))
    template = _template(data.template) if data.template else None
    folder = data.workspace or agent_id
    workspace = relative_path(tenant_id, folder)
    taken = select(Agent.id).where(Agent.tenant_id == tenant_id, Agent.workspace == workspace)
    if await session.scalar(taken) is not None:
        raise WorkspaceTaken(folder)
    await _refuse_legacy_overlap(session, tenant_id)
    agent = Agent(
        id=agent_id,
        tenant_id=tenant_id,
        name=data.name,
        status=AgentStatus.STOPPED,
        heartbeat_minutes=data.heartbeatMinutes,
        workspace=workspace,
    )
    try:
        async with session.begin_nested():  # the unique keys decide a race (PostgreSQL runs them at once)
            session.add(agent)
    except IntegrityError:
        if await session.get(Agent, (tenant_id, agent_id)) is not None:
            raise AgentExists(agent_id) from None
        raise WorkspaceTaken(folder) from None
    return NewAgent(agent, data.template, template)


async def open_workspace(*, session: AsyncSession, new: NewAgent, workspaces_dir: Path, actor: str) -> None:
    """The last part of creating an agent: lays out its workspace folder, installs and pins its
    template if it has one, and records that the agent was created (and the skill attached)."""
    agent = new.agent
    path = resolve(workspaces_dir, agent.workspace)
    create_workspace(path, heartbeat_minutes=agent.heartbeat_minutes)
    trail = [
        _event(agent, EventType.AGENT_CREATED, f"agent {agent.name} created", {"template": new.template_name})
    ]
    if new.template is not None:
        result = install_skill(workspace=path, skill=new.template)
        await _pin(session, agent, result.path, actor)
        trail.append(_attached_event(agent, result))
    await events.append(session, trail)


async def _refuse_legacy_overlap(session: AsyncSession, tenant_id: str) -> None:
    """A workspace from before per-tenant folders named like this tenant's folder would hold the
    tenant's agents inside it (and take them with it when deleted): refused until an operator
    moves it (docs/operations.md)."""
    legacy = f"workspaces/{tenant_folder(tenant_id)}"
    if await session.scalar(select(Agent.id).where(Agent.workspace == legacy).limit(1)) is not None:
        raise Conflict(
            f"the workspace folder {legacy} predates per-tenant folders and is in the way of this "
            "tenant's folder; an operator must move it (see docs/operations.md)",
            code="TENANT_FOLDER_TAKEN",
        )


def _template(name: str) -> Skill:
    try:
        return catalogue.get_template(name)
    except catalogue.SkillNotFound:
        known = ", ".join(s.manifest.name for s in catalogue.list_templates())
        raise InvalidInput(
            f"unknown template '{name}'; choose one of: {known}", code="UNKNOWN_TEMPLATE"
        ) from None


def _event(agent: Agent, type_: EventType, message: str, payload: dict[str, object]) -> NewEvent:
    return NewEvent(
        type=type_, tenant_id=agent.tenant_id, agent_id=agent.id, message=message, payload=payload
    )


def _attached_event(agent: Agent, result: InstallResult) -> NewEvent:
    return _event(
        agent,
        EventType.SKILL_ATTACHED,
        f"skill {result.name} attached",
        {"skillName": result.name, "seeded": result.seeded, "heartbeatAdded": result.heartbeat_added},
    )


def schedule_next_heartbeat(agent: Agent, now: datetime) -> datetime:
    """`now` by the database's clock (`db_now`): every process compares due times with it."""
    return now + timedelta(minutes=agent.heartbeat_minutes)


async def set_running(*, session: AsyncSession, agent: Agent, running: bool) -> Agent:
    """Starts or stops the agent (idempotent); the heartbeat scheduler follows the stored status."""
    status = AgentStatus.RUNNING if running else AgentStatus.STOPPED
    if agent.status != status:
        agent.status = status
        agent.updated_at = utcnow()
        agent.next_heartbeat_at = schedule_next_heartbeat(agent, await db_now(session)) if running else None
        kind = EventType.AGENT_STARTED if running else EventType.AGENT_STOPPED
        await events.append(
            session, [_event(agent, kind, f"agent {agent.name} {status}", {"status": status})]
        )
    return agent


async def update_agent(
    *, session: AsyncSession, agent: Agent, data: AgentUpdate, workspaces_dir: Path
) -> Agent:
    """Renames the agent or changes its heartbeat interval, and records what changed; a running
    agent's next heartbeat is rescheduled from now, and the workspace's config.json follows."""
    changes: dict[str, object] = {}
    if data.name is not None and data.name != agent.name:
        changes["name"] = {"from": agent.name, "to": data.name}
        agent.name = data.name
    minutes = data.heartbeatMinutes
    if minutes is not None and minutes != agent.heartbeat_minutes:
        changes["heartbeatMinutes"] = {"from": agent.heartbeat_minutes, "to": minutes}
        agent.heartbeat_minutes = minutes
        if agent.status == AgentStatus.RUNNING:
            agent.next_heartbeat_at = schedule_next_heartbeat(agent, await db_now(session))
        workspace = resolve(workspaces_dir, agent.workspace)
        if workspace.is_dir():
            await asyncio.to_thread(write_config, workspace, heartbeat_minutes=minutes)
    if changes:
        agent.updated_at = utcnow()
        message = f"agent {agent.name} updated: {', '.join(changes)}"
        await events.append(session, [_event(agent, EventType.AGENT_UPDATED, message, changes)])
    await session.flush()
    return agent


async def attach_skill(
    *,
    session: AsyncSession,
    agent: Agent,
    skill_name: str,
    workspaces_dir: Path,
    actor: str,
    allow_network: bool = False,
) -> InstallResult:
    """Installs a bundled template (fresh copy) or, for a skill already in the workspace that no
    template names, vouches for it as it is; either way the skill is pinned as it now stands.
    `allow_network` (the caller checked the permission): its runs may reach the hosts it declares."""
    workspace = resolve(workspaces_dir, agent.workspace)
    try:
        skill = catalogue.get_template(skill_name)
    except catalogue.SkillNotFound:
        result = _adopt(workspace, skill_name)
    else:
        result = install_skill(workspace=workspace, skill=skill)
    await _pin(session, agent, result.path, actor, allow_network=allow_network)
    agent.updated_at = utcnow()
    await events.append(session, [_attached_event(agent, result)])
    return result


def _adopt(workspace: Path, name: str) -> InstallResult:
    """A skill already in the workspace (put there by hand), attached as it is."""
    try:
        skill = catalogue.get_skill(workspace / "skills", name)
    except catalogue.SkillNotFound:
        _template(name)  # raises UNKNOWN_TEMPLATE, naming the templates
        raise
    except InvalidSkill as exc:
        message = f"skill '{name}' in the workspace is invalid: {exc}"
        raise InvalidInput(message, code="INVALID_SKILL") from None
    return InstallResult(name=skill.name, path=skill.folder)


async def _pin(
    session: AsyncSession, agent: Agent, folder: Path, actor: str, *, allow_network: bool = False
) -> AgentSkill:
    """Records the skill's digest, approval policy and network allowance as attached now (replacing
    an older pin: attaching again without the allowance withdraws it)."""
    skill = catalogue.get_skill(folder.parent, folder.name)
    try:
        digest = await asyncio.to_thread(pins.skill_digest, folder)
    except pins.UnhashableSkill as exc:
        raise InstallError(str(exc)) from None
    key = (agent.tenant_id, agent.id, skill.name)
    pin = await session.get(AgentSkill, key)
    if pin is None:
        pin = AgentSkill(tenant_id=agent.tenant_id, agent_id=agent.id, name=skill.name)
        session.add(pin)
    pin.digest, pin.requires_approval = digest, skill.manifest.requires_approval
    pin.network_allowed = allow_network and bool(skill.manifest.network)
    pin.attached_at, pin.attached_by = utcnow(), actor
    await session.flush()
    return pin


async def skill_pins(*, session: AsyncSession, agent: Agent) -> dict[str, pins.Pin]:
    """The pin of each skill attached to the agent, by name."""
    rows = await session.execute(
        select(AgentSkill.name, AgentSkill.digest, AgentSkill.network_allowed).where(
            AgentSkill.tenant_id == agent.tenant_id, AgentSkill.agent_id == agent.id
        )
    )
    return {name: pins.Pin(digest, network) for name, digest, network in rows}


def skills_root(*, agent: Agent, workspaces_dir: Path) -> Path:
    return resolve(workspaces_dir, agent.workspace) / "skills"


def agent_skills(*, agent: Agent, workspaces_dir: Path) -> list[Skill]:
    return catalogue.list_skills(skills_root(agent=agent, workspaces_dir=workspaces_dir))


async def agent_skill_page(*, session: AsyncSession, agent: Agent, workspaces_dir: Path) -> SkillPage:
    skills = agent_skills(agent=agent, workspaces_dir=workspaces_dir)
    pinned = await skill_pins(session=session, agent=agent)
    return SkillPage(skills=[_skill_read(s, pinned.get(s.name)) for s in skills])


def _skill_read(skill: Skill, pin: pins.Pin | None) -> SkillRead:
    trust = pins.trust(skill.folder, pin.digest if pin else None)
    return skill_read(skill, trust=trust, network_allowed=bool(pin and pin.network_allowed))


async def list_agents(*, session: AsyncSession, tenant_id: str | None, limit: int) -> list[Agent]:
    """The newest `limit` agents in the scope, returned oldest first."""
    query = select(Agent).order_by(Agent.created_at.desc(), Agent.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Agent.tenant_id == tenant_id)
    return await newest_last(session, query)


_BY_ID = select(Agent).where(Agent.id == bindparam("agent_id")).limit(2)  # built once


async def get_agent(*, session: AsyncSession, tenant_id: str | None, agent_id: str) -> Agent:
    """The agent `agent_id` of `tenant_id`; with no tenant (a platform admin's scope), the one agent
    of any tenant with that id, and AgentAmbiguous when several tenants use it."""
    if tenant_id is not None:
        agent = await session.get(Agent, (tenant_id, agent_id))
        if agent is None:  # another tenant's agent is reported exactly like a missing one
            raise AgentNotFound(agent_id)
        return agent
    found = (await session.scalars(_BY_ID, {"agent_id": agent_id})).all()
    if not found:
        raise AgentNotFound(agent_id)
    if len(found) > 1:
        raise AgentAmbiguous(agent_id)
    return found[0]


def ensure_stopped(agent: Agent) -> None:
    """An agent is deleted only once stopped."""
    if agent.status == AgentStatus.RUNNING:
        raise Conflict(f"agent '{agent.id}' is running; stop it first", code="AGENT_RUNNING")


async def remove_agent(*, session: AsyncSession, agent: Agent, workspaces_dir: Path) -> None:
    """Removes the agent's skill pins, its row and its workspace, and records the deletion: the
    agent's own part of deleting it, once the caller has checked that it may go and removed what
    other domains hold of it (the whole is `agents.flows.delete_agent`)."""
    mine = {"tenant_id": agent.tenant_id, "agent_id": agent.id}
    await session.execute(delete(AgentSkill).filter_by(**mine))
    await events.append(session, [_event(agent, EventType.AGENT_DELETED, f"agent {agent.name} deleted", {})])
    await session.delete(agent)
    await session.flush()  # constraints checked before the files go
    await asyncio.to_thread(_remove_workspace, workspaces_dir, agent.workspace)


def _remove_workspace(workspaces_dir: Path, relative: str) -> None:
    root = workspaces_dir.resolve()
    workspace = resolve(workspaces_dir, relative)
    if workspace.is_relative_to(root) and workspace != root:
        shutil.rmtree(workspace, ignore_errors=True)
