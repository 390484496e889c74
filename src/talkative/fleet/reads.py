"""Fleet rows as the API shows them (an unknown stored status reads as `error` / `failed`)."""

from __future__ import annotations

from talkative.fleet.models import Cloud, FleetAgent, Node, Placement, Tenant
from talkative.fleet.schemas import CloudRead, FleetAgentRead, NodeRead, NodeStatus, PlacementRead, TenantRead

NODE_STATUSES: dict[str, NodeStatus] = {"new": "new", "ready": "ready", "unreachable": "unreachable"}


def tenant_read(t: Tenant) -> TenantRead:
    return TenantRead(id=t.id, tenant_id=t.tenant_id, name=t.name, created_at=t.created_at)


def cloud_read(c: Cloud) -> CloudRead:
    return CloudRead(
        id=c.id,
        tenant_id=c.tenant_id,
        name=c.name,
        provider=c.provider,
        region=c.region,
        created_at=c.created_at,
    )


def node_read(n: Node) -> NodeRead:
    return NodeRead(
        id=n.id,
        tenant_id=n.tenant_id,
        cloud_id=n.cloud_id,
        name=n.name,
        mode="ssh" if n.mode == "ssh" else "local",
        ssh_host=n.ssh_host,
        ssh_user=n.ssh_user,
        ssh_port=n.ssh_port,
        base_path=n.base_path,
        status=NODE_STATUSES.get(n.status, "error"),
        last_error=n.last_error,
        last_seen_at=n.last_seen_at,
        created_at=n.created_at,
        updated_at=n.updated_at,
    )


def placement_read(p: Placement) -> PlacementRead:
    return PlacementRead(
        agent_id=p.agent_id,
        node_id=p.node_id,
        tenant_id=p.tenant_id,
        status="provisioned" if p.status == "provisioned" else "failed",
        skills=list(p.skills),
        path=p.path,
        error=p.error,
        provisioned_at=p.provisioned_at,
        updated_at=p.updated_at,
    )


def agent_read(a: FleetAgent, placements: list[Placement]) -> FleetAgentRead:
    return FleetAgentRead(
        id=a.id,
        tenant_id=a.tenant_id,
        cloud_id=a.cloud_id,
        name=a.name,
        skills=list(a.skills),
        placements=[placement_read(p) for p in placements],
        created_at=a.created_at,
        updated_at=a.updated_at,
    )
