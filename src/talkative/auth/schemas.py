from __future__ import annotations

from pydantic import BaseModel

from talkative.auth.principal import Role


class PrincipalRead(BaseModel):
    sub: str
    role: Role
    tenant_id: str | None
    platform_admin: bool
