"""The queries behind the domain checks: each selects only the rows that break its invariant
(at most `LIMIT` of them), one short read-only statement each."""

from __future__ import annotations

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from talkative.agents.models import Agent
from talkative.events.models import EventRow
from talkative.integrity import checks
from talkative.llm_router.models import UsageRow
from talkative.runs.models import Run, RunStep
from talkative.workflows.models import Workflow, WorkflowVersion

LIMIT = 500  # findings per check: enough to act on, bounded for a database that went badly wrong
LEGACY = "legacy"  # runs imported from the POC carry the events it had, not ours


async def open_steps(conn: AsyncConnection) -> list[checks.OpenStep]:
    query = (
        select(Run.tenant_id, Run.id, Run.status, RunStep.idx, RunStep.status)
        .join(RunStep, RunStep.run_id == Run.id)
        .where(Run.status.in_(checks.ENDED_CLEAN), RunStep.status.in_(checks.OPEN_STEP_STATUSES))
        .order_by(Run.id, RunStep.idx)
        .limit(LIMIT)
    )
    return [checks.OpenStep(*row) for row in await conn.execute(query)]


async def missing_finishing_events(conn: AsyncConnection) -> list[checks.RunRow]:
    """Finished runs that have events but not the one their last transition records. Event
    retention removes an agent's oldest events first, and a run's finishing event is its newest,
    so a run whose events were all pruned is left alone but one with any event left is not."""
    finishing = case(checks.FINISHING_EVENTS, value=Run.status)
    any_event = exists().where(EventRow.run_id == Run.id)
    its_end = exists().where(EventRow.run_id == Run.id, EventRow.type == finishing)
    query = (
        select(Run.tenant_id, Run.id, Run.status)
        .where(Run.status.in_(checks.FINISHED), Run.kind != LEGACY, any_event, ~its_end)
        .order_by(Run.id)
        .limit(LIMIT)
    )
    return [checks.RunRow(*row) for row in await conn.execute(query)]


async def missing_finish_times(conn: AsyncConnection) -> list[checks.RunRow]:
    query = (
        select(Run.tenant_id, Run.id, Run.status)
        .where(Run.status.in_(checks.FINISHED), Run.finished_at.is_(None), Run.kind != LEGACY)
        .order_by(Run.id)
        .limit(LIMIT)
    )
    return [checks.RunRow(*row) for row in await conn.execute(query)]


async def held_reservations(conn: AsyncConnection) -> list[checks.HeldReservation]:
    """Holds of finished runs that no planner holds any more (a planner that still holds the run's
    lease records or releases its hold itself: a run cancelled while its model thinks is fine)."""
    query = (
        select(Run.tenant_id, Run.id, UsageRow.id, Run.status, UsageRow.cost)
        .join(Run, Run.id == UsageRow.run_id)
        .where(UsageRow.status == "reserved", Run.status.in_(checks.FINISHED), Run.lease_owner.is_(None))
        .order_by(UsageRow.id)
        .limit(LIMIT)
    )
    return [checks.HeldReservation(*row) for row in await conn.execute(query)]


async def foreign_run_events(conn: AsyncConnection) -> list[checks.ForeignRunEvent]:
    query = (
        select(EventRow.id, EventRow.tenant_id, EventRow.agent_id, Run.id, Run.tenant_id)
        .join(Run, Run.id == EventRow.run_id)
        .where(EventRow.tenant_id != Run.tenant_id)
        .order_by(EventRow.id)
        .limit(LIMIT)
    )
    return [checks.ForeignRunEvent(*row) for row in await conn.execute(query)]


async def foreign_agent_events(conn: AsyncConnection) -> list[checks.ForeignAgentEvents]:
    """(tenant, agent) pairs of events with no agent and no run of that tenant, whose agent id is
    another tenant's. Agents are deleted without their events, so the pair may also be a deleted
    agent whose id another tenant uses: hence a warning, not an error."""
    other = aliased(Agent)
    own_agent = exists().where(Agent.tenant_id == EventRow.tenant_id, Agent.id == EventRow.agent_id)
    own_run = exists().where(Run.tenant_id == EventRow.tenant_id, Run.agent_id == EventRow.agent_id)
    elsewhere = exists().where(other.id == EventRow.agent_id, other.tenant_id != EventRow.tenant_id)
    pairs = (
        select(EventRow.tenant_id, EventRow.agent_id, func.count(), func.min(EventRow.id))
        .where(EventRow.agent_id.is_not(None), ~own_agent, ~own_run, elsewhere)
        .group_by(EventRow.tenant_id, EventRow.agent_id)
        .order_by(EventRow.tenant_id, EventRow.agent_id)
        .limit(LIMIT)
    )
    found = []
    for tenant_id, agent_id, count, first in (await conn.execute(pairs)).all():
        owners = await conn.scalars(
            select(Agent.tenant_id).where(Agent.id == agent_id).order_by(Agent.tenant_id).limit(5)
        )
        names = ", ".join(f"'{owner}'" for owner in owners)
        found.append(checks.ForeignAgentEvents(tenant_id, str(agent_id), count, first, names))
    return found


async def version_ranges(conn: AsyncConnection) -> list[checks.VersionRange]:
    """Per workflow, the version it points at and the versions it holds (checks.version_gaps
    compares them); only those where the two can disagree are returned."""
    held = (
        select(
            WorkflowVersion.workflow_id.label("workflow_id"),
            func.count().label("count"),
            func.min(WorkflowVersion.version).label("lowest"),
            func.max(WorkflowVersion.version).label("highest"),
        )
        .group_by(WorkflowVersion.workflow_id)
        .subquery()
    )
    count = func.coalesce(held.c.count, 0)
    query = (
        select(Workflow.tenant_id, Workflow.id, Workflow.version, count, held.c.lowest, held.c.highest)
        .outerjoin(held, held.c.workflow_id == Workflow.id)
        .where(
            (count != Workflow.version)
            | and_(count > 0, (held.c.lowest != 1) | (held.c.highest != Workflow.version))
        )
        .order_by(Workflow.id)
        .limit(LIMIT)
    )
    return [checks.VersionRange(*row) for row in await conn.execute(query)]


async def agent_workspaces(conn: AsyncConnection) -> list[checks.AgentWorkspace]:
    """Every agent's stored workspace (all of them: sharing is only seen across the whole set)."""
    query = select(Agent.tenant_id, Agent.id, Agent.workspace).order_by(Agent.tenant_id, Agent.id)
    return [checks.AgentWorkspace(*row) for row in await conn.execute(query)]
