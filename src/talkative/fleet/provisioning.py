"""Provisioning an agent onto a node: load, lay the files out (no transaction held), record, answer.

The files are written outside any database transaction (an SSH round trip can take as long as
TALKATIVE_FLEET_SSH_TIMEOUT_S); the outcome is then recorded in its own short unit of work, so a
failure is both stored on the node and placement and returned to the caller as an error.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talkative.db import utcnow
from talkative.fleet import local, service, ssh
from talkative.fleet.exceptions import ProvisionError
from talkative.fleet.models import Node, Placement
from talkative.fleet.workspace import Layout
from talkative.settings import Settings

log = logging.getLogger("talkative.fleet")


def ssh_config(settings: Settings) -> ssh.SshConfig:
    return ssh.SshConfig(
        key=settings.fleet_ssh_key,
        known_hosts=settings.fleet_ssh_known_hosts,
        timeout_s=settings.fleet_ssh_timeout_s,
        connect_timeout_s=settings.fleet_ssh_connect_timeout_s,
    )


async def _lay_out(settings: Settings, node: Node, layout: Layout) -> str:
    if node.mode == "ssh":
        # Validated at creation (and by the importer); a row without them is refused, not guessed.
        if not (node.ssh_host and node.ssh_user and node.ssh_port and node.base_path):
            raise ProvisionError(
                f"node '{node.id}' lacks its SSH host, user, port or base path",
                code="NODE_INCOMPLETE",
                status=409,
            )
        target = ssh.Target(node.ssh_host, node.ssh_user, node.ssh_port, node.base_path)
        return await ssh.provision_ssh(ssh_config(settings), target, layout)
    return await asyncio.to_thread(local.provision_local, settings.fleet_root, node.base_path, layout)


async def provision(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    tenant_scope: str | None,
    agent_id: str,
    node_id: str,
    skills: list[str] | None,
) -> Placement:
    """Lays the agent out on the node and records the outcome; a failure is recorded, then raised."""
    async with sessionmaker() as session:
        agent = await service.get_agent(session, tenant_id=tenant_scope, agent_id=agent_id)
        # The node must belong to the agent's tenant; another tenant's node is a 404 like a missing one.
        node = await service.get_node(session, tenant_id=agent.tenant_id, node_id=node_id)
    layout = Layout(
        agent_id=agent.id,
        tenant_id=agent.tenant_id,
        name=agent.name,
        node_id=node.id,
        skills=service.resolve_skills(agent.skills if skills is None else skills),
        provisioned_at=utcnow(),
    )
    path: str | None = None
    failure: ProvisionError | None = None
    try:
        path = await _lay_out(settings, node, layout)
    except ProvisionError as exc:
        failure = exc
    async with sessionmaker() as session, session.begin():
        placement = await service.record_provisioning(session, layout=layout, path=path, error=failure)
    if failure is not None:
        log.warning("provisioning %s on node %s failed: %s", agent.id, node.id, failure.message)
        raise failure
    log.info("provisioned %s on node %s at %s", agent.id, node.id, path)
    return placement
