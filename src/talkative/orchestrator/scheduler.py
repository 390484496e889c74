"""Background loops owned by the orchestrator: heartbeats due, and event retention."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select, update

from talkative.agents.models import Agent, AgentStatus
from talkative.db import db_now
from talkative.events import service as events
from talkative.orchestrator import flows
from talkative.runtime import Runtime

log = logging.getLogger("talkative.scheduler")


AgentKey = tuple[str, str]  # (tenant_id, agent id): an agent's identity


async def claim_due_heartbeats(runtime: Runtime) -> list[AgentKey]:
    """Agents whose heartbeat is due, each claimed once (safe with several server processes)."""
    claimed: list[AgentKey] = []
    async with runtime.sessionmaker() as session, session.begin():
        now = await db_now(session)  # the due times were set by the database's clock too
        due = (
            await session.execute(
                select(Agent.tenant_id, Agent.id, Agent.heartbeat_minutes)
                .where(Agent.status == AgentStatus.RUNNING, Agent.next_heartbeat_at <= now)
                .limit(100)
            )
        ).all()
        for tenant_id, agent_id, minutes in due:
            # Pushing the due time forward is the claim: a second process updates no row.
            result = await session.execute(
                update(Agent)
                .where(Agent.tenant_id == tenant_id, Agent.id == agent_id, Agent.next_heartbeat_at <= now)
                .values(next_heartbeat_at=now + timedelta(minutes=minutes))
            )
            if result.rowcount:  # type: ignore[attr-defined]
                claimed.append((tenant_id, agent_id))
    return claimed


async def run_due_heartbeats(runtime: Runtime) -> list[AgentKey]:
    claimed = await claim_due_heartbeats(runtime)
    for tenant_id, agent_id in claimed:
        try:
            run_id = await flows.run_heartbeat(runtime, tenant_id=tenant_id, agent_id=agent_id)
            if run_id is not None:
                await flows.wait_settled(runtime, run_id, runtime.settings.tool_timeout_s * 4)
        except Exception:  # one agent's failure must not stop the others' heartbeats
            log.exception("heartbeat of agent %s (tenant %s) failed", agent_id, tenant_id)
    return claimed


async def heartbeat_loop(runtime: Runtime) -> None:
    while await runtime.pause(runtime.settings.heartbeat_poll_s):
        try:
            await run_due_heartbeats(runtime)
        except Exception:
            log.exception("heartbeat scheduler pass failed")


async def prune_events(runtime: Runtime) -> int:
    """One retention pass: every agent keeps its newest `events_keep_per_agent` events."""
    removed = 0
    async with runtime.sessionmaker() as session:
        agents = (await session.execute(select(Agent.tenant_id, Agent.id))).all()
    for tenant_id, agent_id in agents:
        while True:
            async with runtime.sessionmaker() as session, session.begin():
                batch = await events.prune_agent(
                    session,
                    tenant_id=tenant_id,
                    agent_id=agent_id,
                    keep=runtime.settings.events_keep_per_agent,
                )
            removed += batch
            if batch < events.PRUNE_BATCH:
                break
            await asyncio.sleep(0)  # let writers in between batches
    return removed


async def retention_loop(runtime: Runtime) -> None:
    while await runtime.pause(runtime.settings.events_prune_interval_s):
        try:
            removed = await prune_events(runtime)
            if removed:
                log.info("event retention removed %d old events", removed)
        except Exception:
            log.exception("event retention pass failed")
