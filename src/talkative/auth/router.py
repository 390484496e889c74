from __future__ import annotations

from fastapi import APIRouter

from talkative.auth.dependencies import Reader
from talkative.auth.schemas import PrincipalRead
from talkative.errors import ERROR_RESPONSES

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERROR_RESPONSES)


@router.get("/me", operation_id="getCurrentPrincipal")
async def me(principal: Reader) -> PrincipalRead:
    """Who the token says you are (the UI shows role and tenant from this)."""
    return PrincipalRead(
        sub=principal.sub,
        role=principal.role,
        tenant_id=principal.tenant_id,
        platform_admin=principal.is_platform_admin,
    )
