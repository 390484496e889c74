from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from talkative.auth.dependencies import FleetAdmin
from talkative.db import Session
from talkative.deps import Limit, RuntimeDep
from talkative.errors import ERROR_RESPONSES, ErrorBody
from talkative.fleet import provisioning, service
from talkative.fleet.reads import agent_read, cloud_read, node_read, placement_read, tenant_read
from talkative.fleet.schemas import (
    CloudCreate,
    CloudPage,
    CloudRead,
    FleetAgentCreate,
    FleetAgentPage,
    FleetAgentRead,
    FleetNodeCreate,
    NodePage,
    NodeRead,
    PlacementRead,
    ProvisionIn,
    TenantCreate,
    TenantPage,
    TenantRead,
)

router = APIRouter(prefix="/fleet", tags=["fleet"], responses=ERROR_RESPONSES)
NodeId = Annotated[str, Path(min_length=1, max_length=64)]
FleetAgentId = Annotated[str, Path(min_length=1, max_length=64)]
TenantQuery = Annotated[
    str | None,
    Query(
        min_length=1, max_length=64, description="A platform admin's choice of tenant for an id several use"
    ),
]
PROVISION_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    502: {"model": ErrorBody, "description": "The node could not be reached or written (recorded)"},
    503: {"model": ErrorBody, "description": "The server has no SSH key or known_hosts configured"},
}


@router.get("/tenants", operation_id="listTenants")
async def list_tenants(session: Session, principal: FleetAdmin, limit: Limit = 100) -> TenantPage:
    rows = await service.list_tenants(session, tenant_id=principal.tenant_filter, limit=limit)
    return TenantPage(tenants=[tenant_read(t) for t in rows])


@router.post("/tenants", status_code=201, operation_id="createTenant")
async def create_tenant(body: TenantCreate, session: Session, principal: FleetAdmin) -> TenantRead:
    """Registers a tenant by its `tenant_id` (a tenant admin can register only its own)."""
    tenant = await service.create_tenant(
        session, tenant_id=principal.owning_tenant(body.tenant_id), name=body.name
    )
    return tenant_read(tenant)


@router.get("/clouds", operation_id="listClouds")
async def list_clouds(session: Session, principal: FleetAdmin, limit: Limit = 100) -> CloudPage:
    rows = await service.list_clouds(session, tenant_id=principal.tenant_filter, limit=limit)
    return CloudPage(clouds=[cloud_read(c) for c in rows])


@router.post("/clouds", status_code=201, operation_id="createCloud")
async def create_cloud(body: CloudCreate, session: Session, principal: FleetAdmin) -> CloudRead:
    cloud = await service.create_cloud(session, tenant_id=principal.owning_tenant(body.tenant_id), data=body)
    return cloud_read(cloud)


@router.get("/nodes", operation_id="listNodes")
async def list_nodes(session: Session, principal: FleetAdmin, limit: Limit = 100) -> NodePage:
    rows = await service.list_nodes(session, tenant_id=principal.tenant_filter, limit=limit)
    return NodePage(nodes=[node_read(n) for n in rows])


@router.post("/nodes", status_code=201, operation_id="createNode")
async def create_node(
    body: FleetNodeCreate, session: Session, principal: FleetAdmin, runtime: RuntimeDep
) -> NodeRead:
    """A local node, or an SSH node (host key must be in TALKATIVE_FLEET_SSH_KNOWN_HOSTS to provision)."""
    node = await service.create_node(
        session,
        tenant_id=principal.owning_tenant(body.tenant_id),
        data=body,
        local_root=runtime.settings.fleet_root,
    )
    return node_read(node)


@router.get("/nodes/{node_id}", operation_id="getNode")
async def get_node(node_id: NodeId, session: Session, principal: FleetAdmin) -> NodeRead:
    return node_read(await service.get_node(session, tenant_id=principal.tenant_filter, node_id=node_id))


@router.get("/agents", operation_id="listFleetAgents")
async def list_agents(session: Session, principal: FleetAdmin, limit: Limit = 100) -> FleetAgentPage:
    rows = await service.list_agents(session, tenant_id=principal.tenant_filter, limit=limit)
    placed = await service.placements(session, rows)
    return FleetAgentPage(agents=[agent_read(a, placed.get((a.tenant_id, a.id), [])) for a in rows])


@router.post("/agents", status_code=201, operation_id="createFleetAgent")
async def create_agent(body: FleetAgentCreate, session: Session, principal: FleetAdmin) -> FleetAgentRead:
    """Registers an agent to lay out on nodes; its skills must be in the catalogue (GET /skills)."""
    agent = await service.create_agent(session, tenant_id=principal.owning_tenant(body.tenant_id), data=body)
    return agent_read(agent, [])


@router.get("/agents/{agent_id}", operation_id="getFleetAgent")
async def get_agent(
    agent_id: FleetAgentId, session: Session, principal: FleetAdmin, tenant_id: TenantQuery = None
) -> FleetAgentRead:
    """The fleet agent of the caller's tenant (a platform admin names the tenant of an id several use)."""
    agent = await service.get_agent(session, tenant_id=principal.scope_for(tenant_id), agent_id=agent_id)
    placed = await service.placements(session, [agent])
    return agent_read(agent, placed.get((agent.tenant_id, agent.id), []))


@router.post(
    "/agents/{agent_id}/provision", operation_id="provisionFleetAgent", responses=PROVISION_RESPONSES
)
async def provision_agent(
    agent_id: FleetAgentId, body: ProvisionIn, principal: FleetAdmin, runtime: RuntimeDep
) -> PlacementRead:
    """Lays the agent's workspace and skills out on the node (locally or over SSH) and records it.

    A failure is recorded on the node and the placement, then answered as an error (502 when the
    node could not be reached or written). The work runs outside the request's unit of work, so
    this route takes no request session.
    """
    placement = await provisioning.provision(
        runtime.sessionmaker,
        runtime.settings,
        tenant_scope=principal.scope_for(body.tenant_id),
        agent_id=agent_id,
        node_id=body.node_id,
        skills=body.skills,
    )
    return placement_read(placement)
