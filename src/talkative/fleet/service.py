"""The fleet registry: tenants, clouds, nodes and fleet agents, scoped by the caller's tenant."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.db import Base, newest_last, utcnow
from talkative.fleet import local
from talkative.fleet.exceptions import (
    CloudNotFound,
    FleetAgentAmbiguous,
    FleetAgentNotFound,
    FleetConflict,
    NodeNotFound,
    ProvisionError,
    UnknownSkill,
)
from talkative.fleet.models import Cloud, FleetAgent, Node, Placement, Tenant
from talkative.fleet.schemas import CloudCreate, FleetAgentCreate, FleetNodeCreate
from talkative.fleet.workspace import Layout
from talkative.skills import catalogue
from talkative.skills.manifest import InvalidSkill, Skill


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


async def _insert(session: AsyncSession, row: Base, conflict: FleetConflict) -> None:
    """Adds `row`; a unique key taken meanwhile by a concurrent request is the same 409."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise conflict from None


async def create_tenant(session: AsyncSession, *, tenant_id: str, name: str) -> Tenant:
    conflict = FleetConflict(f"tenant '{tenant_id}' is already registered", code="TENANT_EXISTS")
    if await session.scalar(select(Tenant.id).where(Tenant.tenant_id == tenant_id)) is not None:
        raise conflict
    tenant = Tenant(id=new_id("ten"), tenant_id=tenant_id, name=name, created_at=utcnow())
    await _insert(session, tenant, conflict)
    return tenant


async def list_tenants(session: AsyncSession, *, tenant_id: str | None, limit: int) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.created_at.desc(), Tenant.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Tenant.tenant_id == tenant_id)
    return await newest_last(session, query)


async def get_cloud(session: AsyncSession, *, tenant_id: str | None, cloud_id: str) -> Cloud:
    cloud = await session.get(Cloud, cloud_id)
    # Another tenant's cloud is reported exactly like a missing one.
    if cloud is None or (tenant_id is not None and cloud.tenant_id != tenant_id):
        raise CloudNotFound(cloud_id)
    return cloud


async def create_cloud(session: AsyncSession, *, tenant_id: str, data: CloudCreate) -> Cloud:
    conflict = FleetConflict(
        f"tenant '{tenant_id}' already has a cloud named '{data.name}'", code="CLOUD_EXISTS"
    )
    taken = select(Cloud.id).where(Cloud.tenant_id == tenant_id, Cloud.name == data.name)
    if await session.scalar(taken) is not None:
        raise conflict
    cloud = Cloud(
        id=new_id("cld"),
        tenant_id=tenant_id,
        name=data.name,
        provider=data.provider,
        region=data.region,
        created_at=utcnow(),
    )
    await _insert(session, cloud, conflict)
    return cloud


async def list_clouds(session: AsyncSession, *, tenant_id: str | None, limit: int) -> list[Cloud]:
    query = select(Cloud).order_by(Cloud.created_at.desc(), Cloud.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Cloud.tenant_id == tenant_id)
    return await newest_last(session, query)


async def get_node(session: AsyncSession, *, tenant_id: str | None, node_id: str) -> Node:
    node = await session.get(Node, node_id)
    if node is None or (tenant_id is not None and node.tenant_id != tenant_id):
        raise NodeNotFound(node_id)
    return node


async def create_node(
    session: AsyncSession, *, tenant_id: str, data: FleetNodeCreate, local_root: Path
) -> Node:
    if data.cloud_id is not None:
        await get_cloud(session, tenant_id=tenant_id, cloud_id=data.cloud_id)
    if data.mode == "local":
        local.base_folder(local_root, tenant_id, data.base_path)  # refused now, not at the first provisioning
    conflict = FleetConflict(
        f"tenant '{tenant_id}' already has a node named '{data.name}'", code="NODE_EXISTS"
    )
    taken = select(Node.id).where(Node.tenant_id == tenant_id, Node.name == data.name)
    if await session.scalar(taken) is not None:
        raise conflict
    now = utcnow()
    node = Node(
        id=new_id("node"),
        tenant_id=tenant_id,
        cloud_id=data.cloud_id,
        name=data.name,
        mode=data.mode,
        ssh_host=data.ssh_host,
        ssh_user=data.ssh_user,
        ssh_port=data.ssh_port,
        base_path=data.base_path,
        status="new",
        created_at=now,
        updated_at=now,
    )
    await _insert(session, node, conflict)
    return node


async def list_nodes(session: AsyncSession, *, tenant_id: str | None, limit: int) -> list[Node]:
    query = select(Node).order_by(Node.created_at.desc(), Node.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(Node.tenant_id == tenant_id)
    return await newest_last(session, query)


def resolve_skills(names: Iterable[str]) -> tuple[Skill, ...]:
    """The catalogue's skills by name, in order and once each; an unknown name is a 422."""
    skills: dict[str, Skill] = {}
    for name in names:
        if name in skills:
            continue
        try:
            skills[name] = catalogue.get_template(name)
        except (catalogue.SkillNotFound, InvalidSkill):
            known = ", ".join(s.name for s in catalogue.list_templates())
            raise UnknownSkill(f"unknown skill '{name}'; choose from: {known}") from None
    return tuple(skills.values())


async def create_agent(session: AsyncSession, *, tenant_id: str, data: FleetAgentCreate) -> FleetAgent:
    conflict = FleetConflict(
        f"a fleet agent with id '{data.id}' already exists; choose another id", code="FLEET_AGENT_EXISTS"
    )
    if await session.get(FleetAgent, (tenant_id, data.id)) is not None:
        raise conflict
    if data.cloud_id is not None:
        await get_cloud(session, tenant_id=tenant_id, cloud_id=data.cloud_id)
    skills = resolve_skills(data.skills)
    now = utcnow()
    agent = FleetAgent(
        id=data.id,
        tenant_id=tenant_id,
        cloud_id=data.cloud_id,
        name=data.name,
        skills=[s.name for s in skills],
        created_at=now,
        updated_at=now,
    )
    await _insert(session, agent, conflict)
    return agent


async def get_agent(session: AsyncSession, *, tenant_id: str | None, agent_id: str) -> FleetAgent:
    """The fleet agent `agent_id` of `tenant_id`; with no tenant (a platform admin), the one of any
    tenant, and FleetAgentAmbiguous when several tenants use the id."""
    if tenant_id is not None:
        agent = await session.get(FleetAgent, (tenant_id, agent_id))
        if agent is None:  # another tenant's agent is reported exactly like a missing one
            raise FleetAgentNotFound(agent_id)
        return agent
    found = (await session.scalars(select(FleetAgent).where(FleetAgent.id == agent_id).limit(2))).all()
    if not found:
        raise FleetAgentNotFound(agent_id)
    if len(found) > 1:
        raise FleetAgentAmbiguous(agent_id)
    return found[0]


async def list_agents(session: AsyncSession, *, tenant_id: str | None, limit: int) -> list[FleetAgent]:
    query = select(FleetAgent).order_by(FleetAgent.created_at.desc(), FleetAgent.id.desc()).limit(limit)
    if tenant_id is not None:
        query = query.where(FleetAgent.tenant_id == tenant_id)
    return await newest_last(session, query)


AgentKey = tuple[str, str]  # (tenant_id, fleet agent id)


async def placements(session: AsyncSession, agents: Iterable[FleetAgent]) -> dict[AgentKey, list[Placement]]:
    """Each agent's placements, by node id, keyed by (tenant_id, agent id)."""
    found: dict[AgentKey, list[Placement]] = {}
    keys = {(a.tenant_id, a.id) for a in agents}
    if not keys:
        return found
    query = (
        select(Placement)
        .where(Placement.agent_id.in_({agent_id for _, agent_id in keys}))
        .order_by(Placement.node_id)
    )
    for placement in await session.scalars(query):
        key = (placement.tenant_id, placement.agent_id)
        if key in keys:
            found.setdefault(key, []).append(placement)
    return found


async def record_provisioning(
    session: AsyncSession, *, layout: Layout, path: str | None, error: ProvisionError | None
) -> Placement:
    """Stores the outcome on the placement and, when it says something about the node, on the node."""
    now = utcnow()
    node = await session.scalar(select(Node).where(Node.id == layout.node_id).with_for_update())
    if node is None:  # removed while we were provisioning
        raise NodeNotFound(layout.node_id)
    if error is None:
        node.status, node.last_error, node.last_seen_at = "ready", None, now
    elif error.node_status is not None:
        node.status, node.last_error = error.node_status, error.message
        if error.node_status != "unreachable":
            node.last_seen_at = now  # reached (or local): only the writing failed
    node.updated_at = now
    placement = await session.get(Placement, (layout.tenant_id, layout.agent_id, layout.node_id))
    if placement is None:
        placement = Placement(agent_id=layout.agent_id, node_id=layout.node_id, tenant_id=layout.tenant_id)
        session.add(placement)
    placement.skills = layout.skill_names
    placement.updated_at = now
    if error is None:
        placement.status, placement.error, placement.path = "provisioned", None, path
        placement.provisioned_at = layout.provisioned_at
    else:
        placement.status, placement.error = "failed", error.message
    await session.flush()
    return placement
