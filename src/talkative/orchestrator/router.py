"""The orchestrator's own API (URLs under /orchestrator): the contracts it speaks, the command API,
externally reported events and the control of a run (pause, resume, cancel)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from starlette.convertors import Convertor, register_url_convertor

from talkative.auth.dependencies import Operator, Reader
from talkative.deps import RuntimeDep
from talkative.errors import ERROR_RESPONSES
from talkative.events.schemas import EventType
from talkative.orchestrator import commands, control
from talkative.orchestrator.schemas import COMMAND_TYPES, CommandAccepted, CommandIn
from talkative.runs import reads
from talkative.runs.reducer import RunKind, RunStatus, StepKind, SubagentState
from talkative.runs.schemas import Contracts, ExternalEventIn, ExternalEventType, RunRead

router = APIRouter(prefix="/orchestrator", tags=["orchestrator"], responses=ERROR_RESPONSES)
RunId = Annotated[str, Path(min_length=1, max_length=64)]


class _ControlAction(Convertor[str]):
    """`/runs/{id}/{action}` is not `/runs/{id}/events`: a POST there is a 405 (that path serves
    GET), not a 422 naming the actions; any other word still is (the Literal checks it)."""

    regex = "(?!events$)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("run_action", _ControlAction())


@router.get("/contracts", operation_id="getContracts")
async def contracts(_: Reader) -> Contracts:
    """Every set the orchestrator speaks: command and event types, run and subagent states."""
    return Contracts(
        commands=list(COMMAND_TYPES),
        events=list(ExternalEventType.__args__),  # type: ignore[attr-defined]
        run_statuses=[str(s) for s in RunStatus],
        run_kinds=[str(k) for k in RunKind],
        subagent_states=[str(s) for s in SubagentState],
        step_kinds=[str(k) for k in StepKind],
        event_types=[str(t) for t in EventType],
    )


@router.post("/commands", status_code=202, operation_id="submitCommand")
async def submit_command(body: CommandIn, principal: Operator, runtime: RuntimeDep) -> CommandAccepted:
    return await commands.submit(runtime, principal=principal, command=body)


@router.post("/events", status_code=202, operation_id="reportEvent")
async def report_event(body: ExternalEventIn, principal: Operator, runtime: RuntimeDep) -> RunRead:
    """Appends an externally reported event to a run; `error_compacted` fails the run."""
    scope = principal.scope_for(body.tenant_id)
    run = await control.external_event(
        runtime,
        run_id=body.run_id,
        tenant_scope=scope,
        agent_id=body.agent_id,
        type_=body.type,
        message=body.message,
        payload=body.payload,
    )
    return reads.run_read(run)


@router.post("/runs/{run_id}/{action:run_action}", operation_id="controlRun")
async def control_run(
    run_id: RunId, action: Literal["pause", "resume", "cancel"], principal: Operator, runtime: RuntimeDep
) -> RunRead:
    """Pause (no new step starts), resume, or cancel (the running tool is killed); 409 if impossible."""
    run = await control.control(
        runtime, run_id=run_id, tenant_scope=principal.tenant_filter, action=action, actor=principal.sub
    )
    return reads.run_read(run)
