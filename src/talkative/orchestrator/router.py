"""The orchestrator's own API: the contracts it speaks and the command API (URLs under /orchestrator)."""

from __future__ import annotations

from fastapi import APIRouter

from talkative.auth.dependencies import Operator, Reader
from talkative.deps import RuntimeDep
from talkative.errors import ERROR_RESPONSES
from talkative.events.schemas import EventType
from talkative.orchestrator import commands
from talkative.orchestrator.schemas import COMMAND_TYPES, CommandAccepted, CommandIn
from talkative.runs.reducer import RunStatus, StepKind, SubagentState
from talkative.runs.schemas import Contracts, ExternalEventType

router = APIRouter(prefix="/orchestrator", tags=["orchestrator"], responses=ERROR_RESPONSES)


@router.get("/contracts", operation_id="getContracts")
async def contracts(_: Reader) -> Contracts:
    """Every set the orchestrator speaks: command and event types, run and subagent states."""
    return Contracts(
        commands=list(COMMAND_TYPES),
        events=list(ExternalEventType.__args__),  # type: ignore[attr-defined]
        run_statuses=[str(s) for s in RunStatus],
        subagent_states=[str(s) for s in SubagentState],
        step_kinds=[str(k) for k in StepKind],
        event_types=[str(t) for t in EventType],
    )


@router.post("/commands", status_code=202, operation_id="submitCommand")
async def submit_command(body: CommandIn, principal: Operator, runtime: RuntimeDep) -> CommandAccepted:
    return await commands.submit(runtime, principal=principal, command=body)
