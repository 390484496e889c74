"""The run reducer: the one place a run's status changes, as a pure table lookup.

Services load a run, call `reduce`, persist the result and emit `status_event_type(action)`;
nothing else writes a run's status, so an impossible transition is always a 409, never a
silent no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from talkative.errors import Conflict
from talkative.events.schemas import EventType


class RunStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING_APPROVAL = "waiting_approval"
    CANCELLED = "cancelled"
    FAILED = "failed"
    COMPLETED = "completed"
    REJECTED = "rejected"  # ended with a step a human rejected (and none failed): not completed


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # an approval step, until a human decides
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


OPEN_STEPS: frozenset[StepStatus] = frozenset({StepStatus.PENDING, StepStatus.RUNNING})


class StepKind(StrEnum):
    TOOL = "tool"
    APPROVAL = "approval"
    TASK = "task"
    DELEGATE = "delegate"


class RunKind(StrEnum):
    """What opened a run."""

    MESSAGE = "message"  # a message to the agent (API or UI)
    CHANNEL = "channel"  # a message through a channel
    HEARTBEAT = "heartbeat"
    TASK = "task"  # a start_task command
    DELEGATE = "delegate"  # a delegate command
    DELEGATED = "delegated"  # a child run, opened by another run's delegate step
    LEGACY = "legacy"  # imported from before runs were recorded


class SubagentState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    ERROR = "error"


class RunAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    WAIT_APPROVAL = "wait_approval"
    APPROVAL_DECIDED = "approval_decided"
    COMPLETE = "complete"
    REJECT = "reject"
    FAIL = "fail"
    ERROR_COMPACTED = "error_compacted"
    REQUEUE = "requeue"


TERMINAL: frozenset[RunStatus] = frozenset(
    {RunStatus.CANCELLED, RunStatus.FAILED, RunStatus.COMPLETED, RunStatus.REJECTED}
)


@dataclass(frozen=True, slots=True)
class RunState:
    status: RunStatus
    subagent_state: SubagentState


class InvalidTransition(Conflict):
    """The action is not allowed from the run's current status."""

    code = "INVALID_TRANSITION"

    def __init__(self, status_before: RunStatus, action: RunAction) -> None:
        super().__init__(f"cannot {action} a run that is {status_before}")
        self.status_before = status_before
        self.action = action


_S, _A, _G = RunStatus, RunAction, SubagentState
_CANCELLED = RunState(_S.CANCELLED, _G.STOPPED)
_FAILED = RunState(_S.FAILED, _G.ERROR)
_RUNNING = RunState(_S.RUNNING, _G.RUNNING)
_PAUSED = RunState(_S.PAUSED, _G.PAUSED)
# Any live run can be cancelled or fail; listed per status so the table reads as docs/product.md §3.1 does.
_ENDINGS = {_A.CANCEL: _CANCELLED, _A.FAIL: _FAILED, _A.ERROR_COMPACTED: _FAILED}

# The next state depends only on (status, action): the subagent state is derived, never an input.
_TABLE: dict[RunStatus, dict[RunAction, RunState]] = {
    _S.PENDING: {_A.START: _RUNNING, _A.PAUSE: _PAUSED, **_ENDINGS},
    _S.RUNNING: {
        _A.PAUSE: _PAUSED,
        _A.WAIT_APPROVAL: RunState(_S.WAITING_APPROVAL, _G.PAUSED),
        _A.COMPLETE: RunState(_S.COMPLETED, _G.IDLE),
        _A.REJECT: RunState(_S.REJECTED, _G.IDLE),
        # A server restarting mid-run hands the run back to the queue.
        _A.REQUEUE: RunState(_S.PENDING, _G.IDLE),
        **_ENDINGS,
    },
    _S.PAUSED: {_A.RESUME: _RUNNING, **_ENDINGS},
    _S.WAITING_APPROVAL: {_A.APPROVAL_DECIDED: _RUNNING, **_ENDINGS},
    _S.CANCELLED: {},
    _S.FAILED: {},
    _S.COMPLETED: {},
    _S.REJECTED: {},
}

_E = EventType
_EVENT_TYPES: dict[RunAction, EventType] = {
    _A.START: _E.RUN_STARTED,
    _A.PAUSE: _E.RUN_PAUSED,
    _A.RESUME: _E.RUN_RESUMED,
    _A.CANCEL: _E.RUN_CANCELLED,
    _A.WAIT_APPROVAL: _E.RUN_WAITING_APPROVAL,
    _A.APPROVAL_DECIDED: _E.RUN_APPROVAL_DECIDED,
    _A.COMPLETE: _E.RUN_COMPLETED,
    _A.REJECT: _E.RUN_REJECTED,
    _A.FAIL: _E.RUN_FAILED,
    # The compacted error itself is its own event; the status change it causes is a failure.
    _A.ERROR_COMPACTED: _E.RUN_FAILED,
    _A.REQUEUE: _E.RUN_REQUEUED,
}


def reduce(state: RunState, action: RunAction) -> RunState:
    """The state after `action`, or `InvalidTransition` when the table does not allow it."""
    try:
        return _TABLE[state.status][action]
    except KeyError:
        raise InvalidTransition(state.status, action) from None


def allowed_actions(status: RunStatus) -> frozenset[RunAction]:
    return frozenset(_TABLE[status])


def is_terminal(status: RunStatus) -> bool:
    return status in TERMINAL


def status_event_type(action: RunAction) -> EventType:
    """The event type a status change caused by `action` is recorded under."""
    return _EVENT_TYPES[action]
