"""What each kind of step carries: typed, and validated where it meets the database.

A step's spec is stored as JSON next to its `kind`; it is written from one of these models
(`dump`) and read back into one (`parse`), so no code reads a spec by string key.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from talkative.runs.reducer import StepKind


class _Spec(BaseModel):
    # Frozen: a spec changes only by writing a new one (the delegate step records its child so).
    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[StepKind]

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class ToolSpec(_Spec):
    """Run a skill's command in the agent's sandboxed workspace."""

    kind: ClassVar[StepKind] = StepKind.TOOL
    skill: str
    command: str
    reason: str = ""  # the task, "heartbeat" or "chosen by the model"
    skill_digest: str | None = None  # the skill's pinned digest when the step was planned
    egress: tuple[str, ...] = ()  # the destinations an admin allowed it (none: no network)


class ApprovalSpec(_Spec):
    """Wait for a human to approve the steps it guards (their indexes)."""

    kind: ClassVar[StepKind] = StepKind.APPROVAL
    reason: str
    task: str
    guards: tuple[int, ...] = ()


class TaskSpec(_Spec):
    """A task no skill runs, recorded as executed once allowed."""

    kind: ClassVar[StepKind] = StepKind.TASK
    task: str


class DelegateSpec(_Spec):
    """Ask another agent of the tenant; `child_run_id` is recorded once its run is opened."""

    kind: ClassVar[StepKind] = StepKind.DELEGATE
    target_agent_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1)
    child_run_id: str | None = None


StepSpec = ToolSpec | ApprovalSpec | TaskSpec | DelegateSpec

SPEC_TYPES: dict[StepKind, type[StepSpec]] = {
    spec.kind: spec for spec in (ToolSpec, ApprovalSpec, TaskSpec, DelegateSpec)
}


class InvalidSpec(ValueError):
    """A stored step whose spec does not fit its kind (written by another version, or edited)."""


def parse(kind: str, data: dict[str, Any]) -> StepSpec:
    try:
        return SPEC_TYPES[StepKind(kind)].model_validate(data)
    except (ValueError, ValidationError) as exc:  # an unknown kind is a ValueError too
        raise InvalidSpec(f"step of kind {kind!r} has an invalid spec: {exc}") from None
