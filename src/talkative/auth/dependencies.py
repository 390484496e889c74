"""FastAPI dependencies: authenticate once, then check the route's permission from the policy table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from talkative.auth.policy import Permission, allows
from talkative.auth.principal import Principal, Role
from talkative.auth.secrets import AuthConfig
from talkative.auth.tokens import approval_scope, decode_token
from talkative.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="JWT signed with HS256")
DEV_PRINCIPAL = Principal(sub="dev", role=Role.ADMIN, tenant_id=None)

PrincipalDependency = Callable[..., Awaitable[Principal]]
# The only routes a scoped token (an emailed approval link's) may call, for its own approval.
SCOPED_ROUTES = frozenset(
    {("GET", "/approvals/{approval_id}"), ("POST", "/approvals/{approval_id}/decision")}
)


def _check_scope(request: Request, principal: Principal) -> None:
    """A scoped token reaches its own approval's page and decision, nothing else (403)."""
    if principal.scope is None:
        return
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    approval_id = request.path_params.get("approval_id")
    if (request.method, template) not in SCOPED_ROUTES or approval_id is None:
        raise Forbidden("this link's token may only open and decide its own approval", code="TOKEN_SCOPE")
    if approval_scope(str(approval_id)) != principal.scope:
        raise Forbidden("this link's token is for another approval", code="TOKEN_SCOPE")


def _authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None, allow_query_token: bool
) -> Principal:
    auth: AuthConfig = request.app.state.auth
    if auth.disabled:
        return DEV_PRINCIPAL
    token = credentials.credentials if credentials else None
    if token is None and allow_query_token:
        # EventSource cannot set headers, so the SSE route alone takes the token in the URL.
        token = request.query_params.get("access_token")
    if not token:
        raise Unauthorized("missing bearer token", code="MISSING_TOKEN")
    principal = decode_token(secret=auth.secret, token=token)
    request.state.principal = principal
    return principal


def require(permission: Permission, *, allow_query_token: bool = False) -> PrincipalDependency:
    """A dependency that authenticates the caller and enforces `permission`."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        principal = _authenticate(request, credentials, allow_query_token)
        _check_scope(request, principal)
        if not allows(principal.role, permission):
            raise Forbidden(f"role '{principal.role}' may not perform '{permission}'", code="ROLE_FORBIDDEN")
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the route audit test
    return dependency


Reader = Annotated[Principal, Depends(require(Permission.READ))]
Operator = Annotated[Principal, Depends(require(Permission.OPERATE))]
Approver = Annotated[Principal, Depends(require(Permission.DECIDE_APPROVALS))]
RouterAdmin = Annotated[Principal, Depends(require(Permission.ROUTER_ADMIN))]
FleetAdmin = Annotated[Principal, Depends(require(Permission.FLEET))]
WebhookAdmin = Annotated[Principal, Depends(require(Permission.MANAGE_WEBHOOKS))]
ApprovalPolicyAdmin = Annotated[Principal, Depends(require(Permission.MANAGE_APPROVAL_POLICY))]
McpAdmin = Annotated[Principal, Depends(require(Permission.MANAGE_MCP_SERVERS))]
