"""The policy table, and an audit that every non-public route goes through it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import RouteContext

from talkative.auth.policy import POLICY, Permission, allows
from talkative.auth.principal import Role
from talkative.ui.router import CLIENT_ROUTES
from tests.routes import api_routes

# The only routes without a token: health, metrics, the static shell of the web app and the API
# documentation pages (no data: they read /openapi.json, public like FastAPI's own).
PUBLIC_PATHS = {"/health", "/metrics", *CLIENT_ROUTES, "/docs", "/docs/oauth2-redirect", "/redoc"}
# POSTs that only read: the text to interpret is a body, but nothing is stored.
# POSTs that change nothing themselves: /mcp carries JSON-RPC calls, and each tool that writes is
# one call of the API with the caller's token, checked there (tests/mcp: a viewer's writes refused).
READ_ONLY_POSTS = {"/conversation/interpret", "/mcp"}

EXPECTED = {
    (Role.VIEWER, Permission.READ): True,
    (Role.VIEWER, Permission.OPERATE): False,
    (Role.VIEWER, Permission.DECIDE_APPROVALS): False,
    (Role.VIEWER, Permission.ROUTER_ADMIN): False,
    (Role.VIEWER, Permission.FLEET): False,
    (Role.OPERATOR, Permission.READ): True,
    (Role.OPERATOR, Permission.OPERATE): True,
    (Role.OPERATOR, Permission.DECIDE_APPROVALS): True,
    (Role.OPERATOR, Permission.ROUTER_ADMIN): False,
    (Role.OPERATOR, Permission.FLEET): False,
    (Role.ADMIN, Permission.READ): True,
    (Role.ADMIN, Permission.OPERATE): True,
    (Role.ADMIN, Permission.DECIDE_APPROVALS): True,
    (Role.ADMIN, Permission.ROUTER_ADMIN): True,
    (Role.ADMIN, Permission.FLEET): True,
    (Role.VIEWER, Permission.MANAGE_WEBHOOKS): False,
    (Role.OPERATOR, Permission.MANAGE_WEBHOOKS): False,
    (Role.ADMIN, Permission.MANAGE_WEBHOOKS): True,
    (Role.VIEWER, Permission.MANAGE_APPROVAL_CHANNELS): False,
    (Role.OPERATOR, Permission.MANAGE_APPROVAL_CHANNELS): False,
    (Role.ADMIN, Permission.MANAGE_APPROVAL_CHANNELS): True,
    (Role.VIEWER, Permission.MANAGE_MCP_SERVERS): False,
    (Role.OPERATOR, Permission.MANAGE_MCP_SERVERS): False,
    (Role.ADMIN, Permission.MANAGE_MCP_SERVERS): True,
}


@pytest.mark.parametrize(("role", "permission"), sorted(EXPECTED))
def test_policy_table(role: Role, permission: Permission) -> None:
    assert allows(role, permission) is EXPECTED[(role, permission)]


def test_every_permission_has_a_row() -> None:
    assert set(POLICY) == set(Permission)


def _route_permissions(route: RouteContext) -> list[Permission]:
    found = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        permission = getattr(dep.call, "permission", None)
        if permission is not None:
            found.append(permission)
        stack.extend(dep.dependencies)
    return found


async def test_every_route_declares_a_permission(app: FastAPI) -> None:
    """Roles are checked once, by the policy dependency; a route without one would be open."""
    for route in api_routes(app):
        if route.path in PUBLIC_PATHS:
            continue
        assert _route_permissions(route), f"{route.methods} {route.path} has no policy dependency"
        if (route.methods or set()) & {
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
        } and route.path not in READ_ONLY_POSTS:
            assert (
                Permission.READ not in _route_permissions(route) or len(set(_route_permissions(route))) > 1
            ), f"{route.path} writes with only READ permission"
