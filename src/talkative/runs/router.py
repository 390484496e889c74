"""The runs API: list runs and read one, its plan and history (URLs under /orchestrator)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from talkative.auth.dependencies import Reader
from talkative.db import Session
from talkative.deps import Limit
from talkative.errors import ERROR_RESPONSES
from talkative.events import service as events
from talkative.events.params import BeforePosition
from talkative.events.schemas import EventPage
from talkative.paging import CursorQuery, Moment
from talkative.runs import reads
from talkative.runs import service as runs
from talkative.runs.reducer import RunKind, RunStatus
from talkative.runs.schemas import RunPage, RunRead

router = APIRouter(prefix="/orchestrator", tags=["orchestrator"], responses=ERROR_RESPONSES)
RunId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/runs", operation_id="listRuns")
async def list_runs(
    session: Session,
    principal: Reader,
    tenant_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    agent_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: RunStatus | None = None,
    kind: RunKind | None = None,
    since: Annotated[Moment | None, Query(description="Created at or after (ISO 8601 with a zone)")] = None,
    until: Annotated[Moment | None, Query(description="Created before (ISO 8601 with a zone)")] = None,
    before: CursorQuery = None,
    limit: Limit = 50,
) -> RunPage:
    """The newest runs that match, newest last; `tenant_id` narrows a platform admin's view (others:
    their own). Page backwards with `before=next_before` while `has_more`."""
    rows, next_before = await runs.runs_page(
        session,
        tenant_id=principal.scope_for(tenant_id),
        agent_id=agent_id,
        status=status,
        kind=kind,
        since=since,
        until=until,
        before=before,
        limit=limit,
    )
    return RunPage(
        runs=[reads.run_read(r) for r in rows], has_more=next_before is not None, next_before=next_before
    )


@router.get("/runs/{run_id}", operation_id="getRun")
async def get_run(run_id: RunId, session: Session, principal: Reader) -> RunRead:
    """A run with its plan (steps with status, timings, attempts, outputs, errors), history,
    approvals and their decisions, parent and child runs."""
    run = await runs.get(session, run_id, tenant_id=principal.tenant_filter)
    return await reads.run_detail(session, run)


@router.get("/runs/{run_id}/events", operation_id="getRunEvents")
async def get_run_events(
    run_id: RunId,
    session: Session,
    principal: Reader,
    before: BeforePosition = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many events")] = 100,
) -> EventPage:
    """The run's events, newest page first, each page oldest first, in stream order."""
    run = await runs.get(session, run_id, tenant_id=principal.tenant_filter)
    start = None if before is None else await events.position_before(session, before)
    found = await events.history(session, tenant_id=run.tenant_id, run_id=run.id, before=start, limit=limit)
    return events.page(found)
