"""The message routes (URLs under /agents): a message to an agent, or to the running agent whose
skills match it best, starts the message loop of `flows.py`.

They live with the loop they start, not in `agents/router.py`, so that the agents package does
not import the orchestrator (which imports it).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable

from fastapi import APIRouter

from talkative.agents.dependencies import AgentId, TenantQuery
from talkative.auth.dependencies import Operator
from talkative.deps import RuntimeDep
from talkative.errors import ERROR_RESPONSES, TalkativeError
from talkative.observability.metrics import CRITICAL_LOOP, CRITICAL_LOOP_DURATION_S
from talkative.orchestrator import flows, routing
from talkative.orchestrator.outcomes import LoopOutcome, outcome_of
from talkative.orchestrator.schemas import MessageIn, RoutedMessageIn
from talkative.runs.schemas import MessageReply

router = APIRouter(prefix="/agents", tags=["agents"], responses=ERROR_RESPONSES)


async def counted(loop: Awaitable[MessageReply]) -> MessageReply:
    """The loop, counted by outcome (outcomes.py) and timed from the message received to the reply
    (patch applied, events recorded). A refusal the caller can act on (4xx: unknown or stopped
    agent, over budget, invalid input) is not a loop outcome and is not counted here."""
    started = time.perf_counter()
    try:
        reply = await loop
    except TalkativeError as exc:
        if exc.status >= 500:
            CRITICAL_LOOP.labels(LoopOutcome.ERROR).inc()
        raise
    except Exception:
        CRITICAL_LOOP.labels(LoopOutcome.ERROR).inc()
        raise
    CRITICAL_LOOP.labels(outcome_of(reply)).inc()
    CRITICAL_LOOP_DURATION_S.observe(time.perf_counter() - started)
    return reply


@router.post("/message", operation_id="routeMessage")
async def route_message(
    body: RoutedMessageIn, principal: Operator, runtime: RuntimeDep, tenant_id: TenantQuery = None
) -> MessageReply:
    """Sends the message to `agentId`, or to the running agent whose skills match it best."""
    scope = principal.scope_for(tenant_id)
    if body.agentId is not None:
        return await counted(
            flows.handle_message(
                runtime,
                tenant_scope=scope,
                agent_id=body.agentId,
                text=body.message,
                requested_by=principal.sub,
            )
        )
    best = await routing.best_agent(runtime, tenant_scope=scope, text=body.message)
    return await counted(
        flows.handle_message(
            runtime,
            tenant_scope=best.tenant_id,
            agent_id=best.id,
            text=body.message,
            requested_by=principal.sub,
        )
    )


@router.post("/{agent_id}/message", operation_id="sendMessage")
async def send_message(
    agent_id: AgentId,
    body: MessageIn,
    principal: Operator,
    runtime: RuntimeDep,
    tenant_id: TenantQuery = None,
) -> MessageReply:
    """The critical loop: interpret, patch the workflow, run matching skills, reply with every event.

    The flow manages its own units of work (none is held while a skill runs), so this route takes
    no request session.
    """
    scope = principal.scope_for(tenant_id)
    return await counted(
        flows.handle_message(
            runtime, tenant_scope=scope, agent_id=agent_id, text=body.message, requested_by=principal.sub
        )
    )
