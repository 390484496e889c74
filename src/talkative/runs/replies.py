"""The reply to a message, made from what the run stored: its status, steps and events (pure)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from talkative.events.schemas import Event
from talkative.runs.models import Run, RunStep
from talkative.runs.reducer import OPEN_STEPS, RunStatus, StepStatus
from talkative.runs.schemas import Action, MessageReply, Notice
from talkative.runs.specs import ApprovalSpec, DelegateSpec, InvalidSpec, StepSpec, TaskSpec, ToolSpec

_S = StepStatus
ENDED_TOOL = (_S.DONE, _S.FAILED, _S.CANCELLED)
DECIDED = (_S.DONE, _S.REJECTED)


def _spec(step: RunStep) -> StepSpec | None:
    """The step's typed spec, or None for one that does not fit its kind: such a step never runs
    (its run fails saying so), and the reply of its run must still be made."""
    try:
        return step.details
    except InvalidSpec:
        return None


def _action(step: RunStep) -> Action | None:
    """What the step did, as the reply lists it; None while it has nothing to say."""
    result, spec, status = step.result or {}, _spec(step), step.status
    match spec:
        case ToolSpec() if status in ENDED_TOOL:
            error = result.get("error")
            return Action(
                type="tool.executed" if status == _S.DONE else "tool.failed",
                skill=spec.skill,
                ok=status == _S.DONE,
                detail={
                    "artifacts": result.get("artifacts", []),
                    "error": {"code": result.get("error_code"), "message": error} if error else None,
                    "reason": spec.reason,
                    "step": step.idx,
                },
            )
        case ApprovalSpec() if status == _S.WAITING:
            detail = {"approval_id": result.get("approval_id"), "reason": spec.reason, "step": step.idx}
            return Action(type="human_approval_required", ok=None, detail=detail)
        case ApprovalSpec() if status in DECIDED:
            return Action(
                type="approval.approved" if status == _S.DONE else "approval.rejected",
                ok=status == _S.DONE,
                detail={"approval_id": result.get("approval_id"), "step": step.idx},
            )
        case TaskSpec() if status in DECIDED:
            return Action(
                type="task.executed" if status == _S.DONE else "task.rejected",
                ok=status == _S.DONE,
                detail={"task": step.name, "step": step.idx},
            )
        case DelegateSpec() if status in (_S.DONE, _S.FAILED):
            return Action(type="delegate.finished", ok=status == _S.DONE, detail=result)
    return None


def actions_of(steps: list[RunStep], *, heartbeat: bool) -> list[Action]:
    actions = [action for step in steps if (action := _action(step)) is not None]
    beats = [s for s in steps if isinstance(spec := _spec(s), ToolSpec) and spec.reason == "heartbeat"]
    if heartbeat and beats and all(s.status not in OPEN_STEPS for s in beats):
        actions.append(Action(type="heartbeat.executed", ok=all(s.status == _S.DONE for s in beats)))
    elif heartbeat and not beats:
        actions.append(Action(type="heartbeat.executed", ok=True, detail={"commands": 0}))
    return actions


def _notices(result: dict[str, Any]) -> list[Notice]:
    """The run's stored notices; one that no longer fits (edited, or from another version) is left
    out, so it never makes the reply unreadable."""
    stored = result.get("notices")
    found: list[Notice] = []
    for raw in stored if isinstance(stored, list) else []:
        try:
            found.append(Notice.model_validate(raw))
        except ValidationError:
            continue
    return found


def summarize_outcome(run: Run, steps: list[RunStep]) -> str:
    """The reply of a run whose steps all ended: what was understood, the patch, what each step did,
    then what the operator should know (tasks no skill matched, tasks dropped, ...)."""
    result = run.result or {}
    understood = str(result.get("summary") or "")
    parts = [understood] if understood else []
    patch = result.get("workflowPatch")
    if patch and not patch.get("unchanged"):
        parts.append(f"Workflow v{patch.get('version')}: {patch.get('summary')}.")
    for step in steps:
        match _spec(step):
            case ToolSpec(skill=skill) if step.status == _S.DONE:
                said = (step.result or {}).get("summary")
                parts.append(f"{said}." if isinstance(said, str) and said else f"{skill} finished.")
            case ToolSpec(skill=skill):
                parts.append(f"{skill} {step.status}.")
            case TaskSpec():
                parts.append(f"{step.name}: {'done' if step.status == _S.DONE else step.status}.")
            case ApprovalSpec(task=task) if step.status == _S.REJECTED:
                parts.append(f"{task}: rejected by a human, not executed.")
            case DelegateSpec(target_agent_id=target):
                outcome = (step.result or {}).get("status", step.status)
                parts.append(f"Delegated to {target}: {outcome}.")
    parts += [notice.message for notice in _notices(result)]
    return " ".join(parts)


def reply_from(run: Run, steps: list[RunStep], trail: list[Event]) -> MessageReply:
    """The reply for a run, its steps and its events (oldest first)."""
    result = run.result or {}
    reply = run.reply
    if reply is None:
        waiting = run.status == RunStatus.WAITING_APPROVAL
        said = [str(result.get("summary") or ""), *(notice.message for notice in _notices(result))]
        said.append("Waiting for a human to approve the next step." if waiting else f"Run is {run.status}.")
        reply = " ".join(part for part in said if part)
    return MessageReply(
        agentId=run.agent_id,
        reply=reply.strip(),
        run_id=run.id,
        run_status=run.status,
        interpretation=result.get("interpretation", {}),
        workflowPatch=result.get("workflowPatch", {}),
        actions=actions_of(steps, heartbeat=bool(result.get("heartbeat"))),
        events=trail,
        unmatched_tasks=list(result.get("unmatched_tasks") or []),
        dropped_tasks=list((result.get("interpretation") or {}).get("dropped_tasks") or []),
        notices=_notices(result),
    )
