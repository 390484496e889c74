"""Delegation: a parent run asks another agent of its tenant to do something and records the outcome.

Agents never talk to each other directly: the orchestrator opens the child run and watches it.
"""

from __future__ import annotations

from typing import Any

from talkative.db import utcnow
from talkative.events import service as events
from talkative.events.schemas import EventType, NewEvent
from talkative.orchestrator import flows
from talkative.orchestrator import service as runs
from talkative.orchestrator.models import RunStep
from talkative.orchestrator.reducer import TERMINAL
from talkative.orchestrator.runtime import Runtime

CHILD_POLL_S = 0.5


async def _record(
    runtime: Runtime, run_id: str, idx: int, *, status: str, result: dict[str, Any], message: str
) -> bool:
    async with runtime.sessionmaker() as session, session.begin():
        run = await runs.get(session, run_id, for_update=True)
        step = await session.get(RunStep, (run_id, idx))
        assert step is not None
        step.status, step.result, step.finished_at = status, result, utcnow()
        await events.append(
            session,
            [
                NewEvent(
                    type=EventType.DELEGATION_FINISHED,
                    tenant_id=run.tenant_id,
                    agent_id=run.agent_id,
                    run_id=run.id,
                    message=message,
                    payload=result,
                )
            ],
        )
        return run.status == "running"


async def execute(runtime: Runtime, *, run_id: str, idx: int, spec: dict[str, Any]) -> bool:
    """Starts the child run once (its id is kept in the step), then waits for its outcome."""
    child_id = spec.get("child_run_id")
    if child_id is None:
        async with runtime.sessionmaker() as session:
            parent = await runs.get(session, run_id)
        try:
            started = await flows.start_run(
                runtime,
                tenant_scope=parent.tenant_id,
                agent_id=spec["target_agent_id"],
                text=spec["text"],
                kind="delegated",
                parent_run_id=run_id,
            )
        except Exception as exc:  # the target is gone or stopped: the step fails, the parent records why
            message = getattr(exc, "message", str(exc))
            return await _record(
                runtime, run_id, idx, status="failed", result={"error": message}, message=message
            )
        child_id = started.run_id
        async with runtime.sessionmaker() as session, session.begin():
            step = await session.get(RunStep, (run_id, idx))
            assert step is not None
            step.spec = {**step.spec, "child_run_id": child_id}
            parent = await runs.get(session, run_id)
            await events.append(
                session,
                [
                    NewEvent(
                        type=EventType.DELEGATION_STARTED,
                        tenant_id=parent.tenant_id,
                        agent_id=parent.agent_id,
                        run_id=run_id,
                        message=f"delegated to {spec['target_agent_id']}",
                        payload={"child_run_id": child_id, "target_agent_id": spec["target_agent_id"]},
                    )
                ],
            )
    while True:
        async with runtime.sessionmaker() as session:
            child = await runs.get(session, child_id)
            parent_status = (await runs.get(session, run_id)).status
        if child.status in TERMINAL:
            result = {
                "child_run_id": child_id,
                "status": child.status,
                "reply": child.reply,
                "error": child.last_error,
            }
            ok = child.status == "completed"
            return await _record(
                runtime,
                run_id,
                idx,
                status="done" if ok else "failed",
                result=result,
                message=f"{spec['target_agent_id']} finished: {child.status}",
            )
        if parent_status != "running":
            return False  # paused or cancelled: resumed later, the child keeps its own course
        await runtime.watch.changed(child_id, CHILD_POLL_S)
