"""The runs API: list runs and read one, its plan and history (URLs under /orchestrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from talkative.auth.dependencies import Reader
from talkative.db import Session
from talkative.deps import Limit
from talkative.errors import ERROR_RESPONSES
from talkative.runs import reads
from talkative.runs import service as runs
from talkative.runs.schemas import RunPage, RunRead

router = APIRouter(prefix="/orchestrator", tags=["orchestrator"], responses=ERROR_RESPONSES)
RunId = Annotated[str, Path(min_length=1, max_length=64)]


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
