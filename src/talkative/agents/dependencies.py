from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from talkative.agents import service
from talkative.agents.models import Agent
from talkative.auth.dependencies import Reader
from talkative.db import Session

AgentId = Annotated[str, Path(min_length=1, max_length=64, description="Agent id (slug)")]
TenantQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        description="The agent's tenant: a platform admin names it when several tenants use the id; "
        "any other caller may only name its own",
    ),
]


async def valid_agent(
    agent_id: AgentId, session: Session, principal: Reader, tenant_id: TenantQuery = None
) -> Agent:
    """Loads the agent for the caller's tenant, or 404 (409 when a platform admin's id is ambiguous)."""
    return await service.get_agent(
        session=session, tenant_id=principal.scope_for(tenant_id), agent_id=agent_id
    )
