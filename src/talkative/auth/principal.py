"""Who is calling: subject, role and tenant, and how that scopes what they may touch."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from talkative.errors import Forbidden

DEFAULT_TENANT = "tenant-default"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    role: Role
    tenant_id: str | None  # None only for a platform admin
    # A token minted for one thing only (an emailed approval link: "approval:<id>"); None: any route.
    scope: str | None = None

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.ADMIN and self.tenant_id is None

    @property
    def tenant_filter(self) -> str | None:
        """The tenant every query must be limited to; None means all tenants."""
        return None if self.is_platform_admin else self.tenant_id

    def owning_tenant(self, requested: str | None) -> str:
        """The tenant a new object belongs to: the token's; a different body value is refused."""
        if self.is_platform_admin:
            return requested or DEFAULT_TENANT
        assert self.tenant_id is not None
        if requested is not None and requested != self.tenant_id:
            raise Forbidden(
                f"tenant_id '{requested}' does not match your token's tenant",
                code="TENANT_MISMATCH",
            )
        return self.tenant_id

    def scope_for(self, body_tenant: str | None) -> str | None:
        """The tenant scope for a request naming `body_tenant`: the token's (a different body value
        is refused), or for a platform admin the named tenant, or every tenant when none is named."""
        if body_tenant is not None:
            self.owning_tenant(body_tenant)
        return body_tenant if self.is_platform_admin else self.tenant_id
