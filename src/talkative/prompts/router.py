from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from talkative.agents import service as agents
from talkative.agents.dependencies import TenantQuery
from talkative.auth.dependencies import Operator, Reader
from talkative.db import Session
from talkative.errors import ERROR_RESPONSES
from talkative.prompts import service
from talkative.prompts.models import Prompt
from talkative.prompts.schemas import PromptActivate, PromptCreate, PromptPage, PromptRead

router = APIRouter(prefix="/prompts", tags=["prompts"], responses=ERROR_RESPONSES)


def prompt_read(p: Prompt) -> PromptRead:
    return PromptRead(
        id=p.id,
        tenant_id=p.tenant_id,
        agent_id=p.agent_id,
        version=p.version,
        template=p.template,
        is_active=p.is_active,
        created_at=p.created_at,
    )


@router.get("", operation_id="listPrompts")
async def list_prompts(
    session: Session,
    principal: Reader,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    tenant_id: TenantQuery = None,
) -> PromptPage:
    rows = await service.versions(
        session, tenant_id=principal.scope_for(tenant_id), agent_id=agent_id, limit=limit
    )
    return PromptPage(prompts=[prompt_read(p) for p in rows])


@router.post("", status_code=201, operation_id="createPrompt")
async def create_prompt(body: PromptCreate, session: Session, principal: Operator) -> PromptRead:
    """The agent's next prompt version; `activate` makes it the one in use."""
    agent = await agents.get_agent(
        session=session, tenant_id=principal.scope_for(body.tenant_id), agent_id=body.agent_id
    )
    prompt = await service.create(
        session, tenant_id=agent.tenant_id, agent_id=agent.id, template=body.template, activate=body.activate
    )
    return prompt_read(prompt)


@router.post("/activate", operation_id="activatePrompt")
async def activate_prompt(body: PromptActivate, session: Session, principal: Operator) -> PromptRead:
    agent = await agents.get_agent(
        session=session, tenant_id=principal.scope_for(body.tenant_id), agent_id=body.agent_id
    )
    prompt = await service.activate_version(
        session, tenant_id=agent.tenant_id, agent_id=agent.id, version=body.version
    )
    return prompt_read(prompt)
