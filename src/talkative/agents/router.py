from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from talkative.agents import service
from talkative.agents.dependencies import Session, valid_agent
from talkative.agents.models import Agent
from talkative.agents.schemas import AgentCreate, AgentPage, AgentRead
from talkative.auth.dependencies import Operator, Reader
from talkative.errors import ERROR_RESPONSES

router = APIRouter(prefix="/agents", tags=["agents"], responses=ERROR_RESPONSES)
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many, newest last")]


@router.get("", operation_id="listAgents")
async def list_agents(session: Session, principal: Reader, limit: Limit = 100) -> AgentPage:
    agents = await service.list_agents(session=session, tenant_id=principal.tenant_filter, limit=limit)
    return AgentPage(agents=[service.to_read(a) for a in agents])


@router.post("", status_code=201, operation_id="createAgent")
async def create_agent(body: AgentCreate, session: Session, principal: Operator) -> AgentRead:
    agent = await service.create_agent(
        session=session, tenant_id=principal.owning_tenant(body.tenant_id), data=body
    )
    return service.to_read(agent)


@router.get("/{agent_id}", operation_id="getAgent")
async def get_agent(agent: Annotated[Agent, Depends(valid_agent)]) -> AgentRead:
    return service.to_read(agent)
