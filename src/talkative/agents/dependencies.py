from __future__ import annotations

from typing import Annotated

from fastapi import Path

from talkative.agents import service
from talkative.agents.models import Agent
from talkative.auth.dependencies import Reader
from talkative.db import Session

AgentId = Annotated[str, Path(min_length=1, max_length=64, description="Agent id (slug)")]


async def valid_agent(agent_id: AgentId, session: Session, principal: Reader) -> Agent:
    """Loads the agent for the caller's tenant, or 404."""
    return await service.get_agent(session=session, tenant_id=principal.tenant_filter, agent_id=agent_id)
