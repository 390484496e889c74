"""The runs API: list, read and control runs; externally reported events (URLs under /orchestrator)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from talkative.auth.dependencies import Operator, Reader
from talkative.db import Session
from talkative.deps import Limit, RuntimeDep
from talkative.errors import ERROR_RESPONSES
from talkative.runs import control, reads
from talkative.runs import service as runs
from talkative.runs.schemas import ExternalEventIn, RunPage, RunRead

router = APIRouter(prefix="/orchestrator", tags=["orchestrator"], responses=ERROR_RESPONSES)
RunId = Annotated[str, Path(min_length=1, max_length=64)]


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


@router.get("/runs", operation_id="listRuns")
async def list_runs(
    session: Session,
    principal: Reader,
    tenant_id: Annotated[str | None, Query(max_length=64)] = None,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
) -> RunPage:
    """The newest runs, newest last; `tenant_id` narrows a platform admin's view (others: their own)."""
    rows = await runs.list_runs(
        session, tenant_id=principal.scope_for(tenant_id), agent_id=agent_id, status=status, limit=limit
    )
    return RunPage(runs=[reads.run_read(r) for r in rows])


@router.get("/runs/{run_id}", operation_id="getRun")
async def get_run(run_id: RunId, session: Session, principal: Reader) -> RunRead:
    run = await runs.get(session, run_id, tenant_id=principal.tenant_filter)
    return await reads.run_detail(session, run)


@router.post("/runs/{run_id}/{action}", operation_id="controlRun")
async def control_run(
    run_id: RunId, action: Literal["pause", "resume", "cancel"], principal: Operator, runtime: RuntimeDep
) -> RunRead:
    """Pause (no new step starts), resume, or cancel (the running tool is killed); 409 if impossible."""
    run = await control.control(
        runtime, run_id=run_id, tenant_scope=principal.tenant_filter, action=action, actor=principal.sub
    )
    return reads.run_read(run)
