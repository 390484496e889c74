"""The one policy table: which role may do what. Routes name a permission; nothing else checks roles."""

from __future__ import annotations

from enum import StrEnum

from talkative.auth.principal import Role


class Permission(StrEnum):
    READ = "read"  # anything in the caller's tenant
    OPERATE = "operate"  # create/change agents, send messages, control runs
    DECIDE_APPROVALS = "decide_approvals"
    ROUTER_ADMIN = "router_admin"  # change router rules and budgets
    FLEET = "fleet"  # tenants, clouds, nodes, provisioning
    ALLOW_EGRESS = "allow_egress"  # let an agent's skill reach the hosts it declares (tools/egress.py)
    MANAGE_WEBHOOKS = "manage_webhooks"  # subscribe URLs to the tenant's events (webhooks/)
    MANAGE_APPROVAL_POLICY = "manage_approval_policy"  # who approves, how many, by when (approvals/)
    MANAGE_APPROVAL_CHANNELS = "manage_approval_channels"  # any approval mail recipient (approval_mail/)
    MANAGE_MCP_SERVERS = "manage_mcp_servers"  # register MCP servers, approve their tools (mcp_skills/)


_ALL = frozenset(Role)
_OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR})
_ADMINS = frozenset({Role.ADMIN})

POLICY: dict[Permission, frozenset[Role]] = {
    Permission.READ: _ALL,
    Permission.OPERATE: _OPERATORS,
    Permission.DECIDE_APPROVALS: _OPERATORS,
    Permission.ROUTER_ADMIN: _ADMINS,
    Permission.FLEET: _ADMINS,
    Permission.ALLOW_EGRESS: _ADMINS,
    Permission.MANAGE_WEBHOOKS: _ADMINS,
    Permission.MANAGE_APPROVAL_POLICY: _ADMINS,
    Permission.MANAGE_APPROVAL_CHANNELS: _ADMINS,
    Permission.MANAGE_MCP_SERVERS: _ADMINS,
}


def allows(role: Role, permission: Permission) -> bool:
    return role in POLICY[permission]
