from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query

from talkative.agents import service as agents
from talkative.agents.dependencies import TenantQuery
from talkative.auth.dependencies import Operator, Reader
from talkative.channels import service
from talkative.channels.schemas import (
    ClientMessageIn,
    ClientMessagePage,
    ClientMessageRead,
    InternalActionIn,
    InternalActionPage,
    InternalActionRead,
)
from talkative.db import Session
from talkative.deps import Limit, RuntimeDep
from talkative.errors import ERROR_RESPONSES, InvalidInput
from talkative.input.strict import renderable
from talkative.orchestrator import flows
from talkative.runs.reducer import RunKind, RunStatus

router = APIRouter(prefix="/channels", tags=["channels"], responses=ERROR_RESPONSES)
AgentFilter = Annotated[str | None, Query(max_length=64)]
log = logging.getLogger("talkative.channels")


@router.post("/client/messages", status_code=202, operation_id="sendClientMessage")
async def client_message(
    body: ClientMessageIn, principal: Operator, runtime: RuntimeDep
) -> ClientMessageRead:
    """Accepted at once (202): the agent works on the text as a run; poll the list for its reply."""
    async with runtime.sessionmaker() as session:
        agent = await agents.get_agent(
            session=session, tenant_id=principal.scope_for(body.tenant_id), agent_id=body.agent_id
        )
    started = await flows.start_run(
        runtime,
        tenant_scope=agent.tenant_id,
        agent_id=agent.id,
        text=body.text,
        kind=RunKind.CHANNEL,
        requested_by=principal.sub,
    )
    async with runtime.sessionmaker() as session, session.begin():
        message = await service.record_message(
            session,
            tenant_id=agent.tenant_id,
            agent_id=agent.id,
            client_id=body.client_id,
            text=body.text,
            run_id=started.run_id,
        )
    return ClientMessageRead(
        id=message.id,
        tenant_id=message.tenant_id,
        agent_id=message.agent_id,
        client_id=message.client_id,
        text=message.text,
        run_id=message.run_id,
        run_status=RunStatus.RUNNING if started.has_steps else RunStatus.COMPLETED,
        reply=None,
        created_at=message.created_at,
    )


@router.get("/client/messages", operation_id="listClientMessages")
async def list_client_messages(
    session: Session,
    principal: Reader,
    agent_id: AgentFilter = None,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 100,
    tenant_id: TenantQuery = None,
) -> ClientMessagePage:
    rows = await service.list_messages(
        session, tenant_id=principal.scope_for(tenant_id), agent_id=agent_id, client_id=client_id, limit=limit
    )
    return ClientMessagePage(
        messages=[
            ClientMessageRead(
                id=m.id,
                tenant_id=m.tenant_id,
                agent_id=m.agent_id,
                client_id=m.client_id,
                text=m.text,
                run_id=m.run_id,
                run_status=r.status if r else None,
                reply=r.reply if r else None,
                created_at=m.created_at,
            )
            for m, r in rows
        ]
    )


@router.post("/internal/actions", status_code=201, operation_id="recordInternalAction")
async def internal_action(
    body: InternalActionIn, session: Session, principal: Operator
) -> InternalActionRead:
    """Records what an operator did; the actor is the token's subject, never a body field."""
    scope = principal.scope_for(body.tenant_id)
    if body.agent_id is not None:
        tenant = (await agents.get_agent(session=session, tenant_id=scope, agent_id=body.agent_id)).tenant_id
    elif scope is not None:
        tenant = scope
    else:
        raise InvalidInput("a platform admin must name tenant_id or agent_id", code="VALIDATION_ERROR")
    entry = await service.record_action(
        session,
        tenant_id=tenant,
        agent_id=body.agent_id,
        operator_id=principal.sub,
        action=body.action,
        payload=body.payload,
    )
    return InternalActionRead(
        id=entry.id,
        tenant_id=entry.tenant_id,
        agent_id=entry.agent_id,
        operator_id=entry.operator_id,
        action=entry.action,
        payload=entry.payload,
        created_at=entry.created_at,
    )


@router.get("/internal/actions", operation_id="listInternalActions")
async def list_internal_actions(
    session: Session,
    principal: Reader,
    agent_id: AgentFilter = None,
    limit: Limit = 100,
    tenant_id: TenantQuery = None,
) -> InternalActionPage:
    rows = await service.list_actions(
        session, tenant_id=principal.scope_for(tenant_id), agent_id=agent_id, limit=limit
    )
    return InternalActionPage(
        actions=[
            InternalActionRead(
                id=e.id,
                tenant_id=e.tenant_id,
                agent_id=e.agent_id,
                operator_id=e.operator_id,
                action=e.action,
                payload=e.payload,
                created_at=e.created_at,
            )
            for e in rows
            if _renders(e.id, e.payload)
        ]
    )


def _renders(action_id: str, payload: object) -> bool:
    """A stored payload that cannot be rendered leaves its entry out of the list (logged)."""
    if renderable(payload):
        return True
    log.warning("internal action %s skipped: its payload cannot be rendered as JSON", action_id)
    return False
