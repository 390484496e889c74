"""Runs as the API shows them: status, plan (steps), and history (commands and events in order)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talkative.events import service as events
from talkative.input.strict import renderable
from talkative.runs import service as runs
from talkative.runs.models import Run
from talkative.runs.reducer import RunStatus, allowed_actions
from talkative.runs.replies import reply_from
from talkative.runs.schemas import MessageReply, RunRead, RunRecord, StepRead

log = logging.getLogger("talkative.runs")


def run_read(run: Run) -> RunRead:
    return RunRead(
        run_id=run.id,
        tenant_id=run.tenant_id,
        agent_id=run.agent_id,
        kind=run.kind,
        input=run.input,
        status=run.status,
        subagent_state=run.subagent_state,
        parent_run_id=run.parent_run_id,
        last_error=run.last_error,
        reply=run.reply,
        created_at=run.created_at,
        updated_at=run.updated_at,
        finished_at=run.finished_at,
        allowed_actions=sorted(str(a) for a in allowed_actions(RunStatus(run.status))),
    )


async def run_detail(session: AsyncSession, run: Run) -> RunRead:
    read = run_read(run)
    read.plan = [
        StepRead(
            idx=s.idx,
            kind=s.kind,
            name=s.name,
            status=s.status,
            spec=s.spec,
            result=s.result,
            node_id=s.node_id,
            attempts=s.attempts,
            started_at=s.started_at,
            finished_at=s.finished_at,
        )
        for s in await runs.steps_of(session, run.id)
        if _renders(run, "step", s.idx, s.spec, s.result)
    ]
    history = [
        RunRecord(
            type="command", name=c.type, at=c.created_at, payload={**c.payload, "actor": c.actor}, id=c.id
        )
        for c in await runs.commands_of(session, run.id)
        if _renders(run, "command", c.id, c.payload)
    ] + [
        RunRecord(type="event", name=e.type, at=e.timestamp, payload=e.payload, id=str(e.id))
        for e in await events.for_run(session, run_id=run.id)
    ]
    read.steps = sorted(history, key=lambda r: r.at)
    read.children = list((await session.scalars(select(Run.id).where(Run.parent_run_id == run.id))).all())
    return read


def _renders(run: Run, what: str, key: object, *documents: object) -> bool:
    """A stored document that cannot be rendered is left out of the run's detail (and logged), so
    one bad row never makes the whole run unreadable. Events are filtered by their store."""
    if all(renderable(doc) for doc in documents):
        return True
    log.warning("run %s: %s %s skipped: it cannot be rendered as JSON", run.id, what, key)
    return False


async def build_reply(session: AsyncSession, run_id: str) -> MessageReply:
    run = await runs.get(session, run_id)
    steps = await runs.steps_of(session, run_id)
    trail = await events.for_run(session, run_id=run_id)
    return reply_from(run, steps, trail)
