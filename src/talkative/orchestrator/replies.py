"""The reply to a message (SPEC §2 step 8), built from what the run stored."""

from __future__ import annotations

from talkative.events import service as events
from talkative.events.schemas import Event
from talkative.orchestrator import service as runs
from talkative.orchestrator.models import Run, RunStep
from talkative.orchestrator.runtime import Runtime
from talkative.orchestrator.schemas import Action, MessageReply


def actions_of(steps: list[RunStep], *, heartbeat: bool) -> list[Action]:
    actions: list[Action] = []
    for step in steps:
        result = step.result or {}
        if step.kind == "tool" and step.status in ("done", "failed", "cancelled"):
            actions.append(
                Action(
                    type="tool.executed" if step.status == "done" else "tool.failed",
                    skill=step.spec.get("skill"),
                    ok=step.status == "done",
                    detail={
                        "artifacts": result.get("artifacts", []),
                        "error": {"code": result.get("error_code"), "message": result.get("error")}
                        if result.get("error")
                        else None,
                        "reason": step.spec.get("reason"),
                        "step": step.idx,
                    },
                )
            )
        elif step.kind == "approval" and step.status == "waiting":
            actions.append(
                Action(
                    type="human_approval_required",
                    ok=None,
                    detail={
                        "approval_id": result.get("approval_id"),
                        "reason": step.spec.get("reason"),
                        "step": step.idx,
                    },
                )
            )
        elif step.kind == "approval" and step.status in ("done", "rejected"):
            actions.append(
                Action(
                    type="approval.approved" if step.status == "done" else "approval.rejected",
                    ok=step.status == "done",
                    detail={"approval_id": result.get("approval_id"), "step": step.idx},
                )
            )
        elif step.kind == "task" and step.status in ("done", "rejected"):
            actions.append(
                Action(
                    type="task.executed" if step.status == "done" else "task.rejected",
                    ok=step.status == "done",
                    detail={"task": step.name, "step": step.idx},
                )
            )
        elif step.kind == "delegate" and step.status in ("done", "failed"):
            actions.append(Action(type="delegate.finished", ok=step.status == "done", detail=result))
    heartbeat_steps = [s for s in steps if s.kind == "tool" and s.spec.get("reason") == "heartbeat"]
    if heartbeat and heartbeat_steps and all(s.status not in ("pending", "running") for s in heartbeat_steps):
        actions.append(Action(type="heartbeat.executed", ok=all(s.status == "done" for s in heartbeat_steps)))
    elif heartbeat and not heartbeat_steps:
        actions.append(Action(type="heartbeat.executed", ok=True, detail={"commands": 0}))
    return actions


async def build_reply(runtime: Runtime, run_id: str) -> MessageReply:
    async with runtime.sessionmaker() as session:
        run = await runs.get(session, run_id)
        steps = await runs.steps_of(session, run_id)
        trail = await events.for_run(session, run_id=run_id)
    return reply_from(run, steps, trail)


def reply_from(run: Run, steps: list[RunStep], trail: list[Event]) -> MessageReply:
    """The reply for a run, its steps and its events (oldest first)."""
    result = run.result or {}
    reply = run.reply
    if reply is None:
        waiting = run.status == "waiting_approval"
        reply = f"{result.get('summary', '')} " + (
            "Waiting for a human to approve the next step." if waiting else f"Run is {run.status}."
        )
    return MessageReply(
        agentId=run.agent_id,
        reply=reply.strip(),
        run_id=run.id,
        run_status=run.status,
        interpretation=result.get("interpretation", {}),
        workflowPatch=result.get("workflowPatch", {}),
        actions=actions_of(steps, heartbeat=bool(result.get("heartbeat"))),
        events=trail,
    )
