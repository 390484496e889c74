"""The run reducer, by its full table (every status x every action) and by random action sequences."""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talkative.errors import Conflict
from talkative.runs.reducer import (
    TERMINAL,
    InvalidTransition,
    RunAction,
    RunState,
    RunStatus,
    SubagentState,
    allowed_actions,
    is_terminal,
    reduce,
    status_event_type,
)

S, A, G = RunStatus, RunAction, SubagentState

# The table of docs/product.md §3.1, written out independently of the module's; anything missing is invalid.
EXPECTED: dict[tuple[RunStatus, RunAction], tuple[RunStatus, SubagentState]] = {
    (S.PENDING, A.START): (S.RUNNING, G.RUNNING),
    (S.PENDING, A.PAUSE): (S.PAUSED, G.PAUSED),
    (S.PENDING, A.CANCEL): (S.CANCELLED, G.STOPPED),
    (S.PENDING, A.FAIL): (S.FAILED, G.ERROR),
    (S.PENDING, A.ERROR_COMPACTED): (S.FAILED, G.ERROR),
    (S.RUNNING, A.PAUSE): (S.PAUSED, G.PAUSED),
    (S.RUNNING, A.CANCEL): (S.CANCELLED, G.STOPPED),
    (S.RUNNING, A.WAIT_APPROVAL): (S.WAITING_APPROVAL, G.PAUSED),
    (S.RUNNING, A.COMPLETE): (S.COMPLETED, G.IDLE),
    (S.RUNNING, A.REJECT): (S.REJECTED, G.IDLE),
    (S.RUNNING, A.FAIL): (S.FAILED, G.ERROR),
    (S.RUNNING, A.ERROR_COMPACTED): (S.FAILED, G.ERROR),
    (S.RUNNING, A.REQUEUE): (S.PENDING, G.IDLE),
    (S.PAUSED, A.RESUME): (S.RUNNING, G.RUNNING),
    (S.PAUSED, A.CANCEL): (S.CANCELLED, G.STOPPED),
    (S.PAUSED, A.FAIL): (S.FAILED, G.ERROR),
    (S.PAUSED, A.ERROR_COMPACTED): (S.FAILED, G.ERROR),
    (S.WAITING_APPROVAL, A.APPROVAL_DECIDED): (S.RUNNING, G.RUNNING),
    (S.WAITING_APPROVAL, A.CANCEL): (S.CANCELLED, G.STOPPED),
    (S.WAITING_APPROVAL, A.FAIL): (S.FAILED, G.ERROR),
    (S.WAITING_APPROVAL, A.ERROR_COMPACTED): (S.FAILED, G.ERROR),
}

# Which subagent state goes with each status, whatever path led there.
SUBAGENT_FOR = {
    S.PENDING: G.IDLE,
    S.RUNNING: G.RUNNING,
    S.PAUSED: G.PAUSED,
    S.WAITING_APPROVAL: G.PAUSED,
    S.CANCELLED: G.STOPPED,
    S.FAILED: G.ERROR,
    S.COMPLETED: G.IDLE,
    S.REJECTED: G.IDLE,
}


def test_enums_hold_exactly_the_documented_values() -> None:
    assert [s.value for s in S] == [
        "pending",
        "running",
        "paused",
        "waiting_approval",
        "cancelled",
        "failed",
        "completed",
        "rejected",
    ]
    assert [g.value for g in G] == ["idle", "running", "paused", "stopped", "error"]
    assert set(TERMINAL) == {S.CANCELLED, S.FAILED, S.COMPLETED, S.REJECTED}


@pytest.mark.parametrize(("status", "action"), list(product(S, A)), ids=str)
def test_every_status_and_action(status: RunStatus, action: RunAction) -> None:
    state = RunState(status, SUBAGENT_FOR[status])
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(InvalidTransition) as caught:
            reduce(state, action)
        assert caught.value.status_before is status
        assert caught.value.action is action
        assert f"cannot {action.value} a run that is {status.value}" == caught.value.message
    else:
        assert reduce(state, action) == RunState(*expected)


@pytest.mark.parametrize("status", list(S), ids=str)
def test_allowed_actions_match_the_table(status: RunStatus) -> None:
    assert allowed_actions(status) == {a for (s, a) in EXPECTED if s is status}
    assert is_terminal(status) is (status in {S.CANCELLED, S.FAILED, S.COMPLETED, S.REJECTED})
    # A terminal status allows nothing; every live status can at least be cancelled.
    assert (allowed_actions(status) == frozenset()) is is_terminal(status)


def test_invalid_transition_is_a_409_conflict_with_its_own_code() -> None:
    with pytest.raises(InvalidTransition) as caught:
        reduce(RunState(S.CANCELLED, G.STOPPED), A.RESUME)
    error = caught.value
    assert isinstance(error, Conflict)
    assert (error.status, error.code) == (409, "INVALID_TRANSITION")
    assert str(error) == error.message == "cannot resume a run that is cancelled"


@pytest.mark.parametrize(
    ("action", "event_type"),
    [
        (A.START, "RUN_STARTED"),
        (A.PAUSE, "RUN_PAUSED"),
        (A.RESUME, "RUN_RESUMED"),
        (A.CANCEL, "RUN_CANCELLED"),
        (A.WAIT_APPROVAL, "RUN_WAITING_APPROVAL"),
        (A.APPROVAL_DECIDED, "RUN_APPROVAL_DECIDED"),
        (A.COMPLETE, "RUN_COMPLETED"),
        (A.REJECT, "RUN_REJECTED"),
        (A.FAIL, "RUN_FAILED"),
        (A.ERROR_COMPACTED, "RUN_FAILED"),
        (A.REQUEUE, "RUN_REQUEUED"),
    ],
    ids=str,
)
def test_status_event_type(action: RunAction, event_type: str) -> None:
    assert status_event_type(action) == event_type


@given(st.sampled_from(S), st.sampled_from(G), st.sampled_from(A))
def test_the_incoming_subagent_state_never_changes_the_outcome(
    status: RunStatus, subagent: SubagentState, action: RunAction
) -> None:
    def outcome(state: RunState) -> RunState | str:
        try:
            return reduce(state, action)
        except InvalidTransition as exc:
            return exc.message

    assert outcome(RunState(status, subagent)) == outcome(RunState(status, SUBAGENT_FOR[status]))


@given(st.lists(st.sampled_from(A), max_size=40))
def test_random_sequences_from_pending_stay_in_the_sets_and_never_leave_a_terminal_state(
    actions: list[RunAction],
) -> None:
    state = RunState(S.PENDING, G.IDLE)
    for action in actions:
        was_terminal = is_terminal(state.status)
        try:
            after = reduce(state, action)
        except InvalidTransition:
            assert action not in allowed_actions(state.status)
            continue
        assert not was_terminal, f"{action} moved a {state.status} run"
        assert action in allowed_actions(state.status)
        assert after.status in set(S)
        assert after.subagent_state in set(G)
        assert after.subagent_state is SUBAGENT_FOR[after.status]
        state = after
