"""The critical loop's outcome of a reply, by table (orchestrator/outcomes.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from talkative.events.schemas import Event
from talkative.orchestrator.outcomes import LoopOutcome, outcome_of
from talkative.runs.schemas import MessageReply

NODES = {"suggestions": {"nodes": [{"id": "send-invoice", "name": "send invoice"}], "edges": []}}
META = {"suggestions": {"nodes": [], "edges": []}, "tasks": [{"id": "hb", "name": "run heartbeat"}]}
APPLIED = {"workflowId": "wf", "version": 2, "operations": [{"op": "add_node"}], "unchanged": False}
UNCHANGED = {"workflowId": "wf", "version": 2, "operations": [], "unchanged": True}
LOST = {"workflowId": "wf", "version": 1, "operations": [{"op": "add_node"}], "unchanged": True}
LOOP = ("MESSAGE_RECEIVED", "INTERPRETATION_RESULT")


def _event(n: int, type_: str, run_id: str = "run-1") -> Event:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Event(
        id=n, position=str(n), type=type_, tenant_id="t", agent_id="a", run_id=run_id, message="",
        payload={}, timestamp=at,
    )  # fmt: skip


def _reply(
    interpretation: dict[str, Any], patch: dict[str, Any], types: tuple[str, ...], run: str = "run-1"
) -> MessageReply:
    events = [_event(n, t, run) for n, t in enumerate(types)]
    return MessageReply(
        agentId="a", reply="", run_id="run-1", run_status="completed", interpretation=interpretation,
        workflowPatch=patch, actions=[], events=events,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("interpretation", "patch", "types", "run", "expected"),
    [
        (NODES, APPLIED, LOOP, "run-1", LoopOutcome.OK),
        (NODES, UNCHANGED, LOOP, "run-1", LoopOutcome.OK),  # a repeated message: already mapped
        (META, UNCHANGED, LOOP, "run-1", LoopOutcome.OK),  # a meta-request: no node expected
        (META, {}, LOOP, "run-1", LoopOutcome.OK),
        (NODES, {}, LOOP, "run-1", LoopOutcome.NO_PATCH),  # tasks, and no patch recorded
        (NODES, LOST, LOOP, "run-1", LoopOutcome.NO_PATCH),  # operations left unapplied
        (NODES, APPLIED, (), "run-1", LoopOutcome.NO_EVENTS),
        (NODES, APPLIED, ("MESSAGE_RECEIVED",), "run-1", LoopOutcome.NO_EVENTS),
        (NODES, APPLIED, LOOP, "run-2", LoopOutcome.NO_EVENTS),  # another run's events
        (NODES, {}, (), "run-1", LoopOutcome.NO_EVENTS),  # no events outranks no patch
    ],
)
def test_outcome_of(
    interpretation: dict[str, Any],
    patch: dict[str, Any],
    types: tuple[str, ...],
    run: str,
    expected: LoopOutcome,
) -> None:
    assert outcome_of(_reply(interpretation, patch, types, run)) == expected
