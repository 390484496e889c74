"""A workflow node's status, from the run steps that executed it. Pure.

A node's status is what its latest run did with it: a step still to run or waiting for a human
makes it `active`; otherwise the worst ending wins (failed, then rejected, then cancelled) and
`done` only when every step of it is done. A step left open by a run that ended never ran: it
counts as cancelled. A node no run touched keeps the status stored in the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from talkative.workflows.graph import NodeStatus

_LIVE_RUNS = frozenset({"pending", "running", "paused", "waiting_approval"})
_OPEN_STEPS = frozenset({"pending", "running", "waiting"})
_WORST_FIRST: tuple[NodeStatus, ...] = ("failed", "rejected", "cancelled")
MAX_RUN_IDS = 5


@dataclass(frozen=True)
class StepFact:
    """One step linked to a node: its status and its run's, newest runs first in a sequence."""

    node_id: str
    run_id: str
    step_status: str
    run_status: str


def status_of(steps: Sequence[tuple[str, str]]) -> NodeStatus | None:
    """The status of a node from (step status, run status) of the steps of its latest run."""
    if not steps:
        return None
    ended: list[str] = []
    for step, run in steps:
        if step in _OPEN_STEPS:
            if run in _LIVE_RUNS:
                return "active"
            ended.append("cancelled")  # its run ended before it ran
        else:
            ended.append(step)
    for worst in _WORST_FIRST:
        if worst in ended:
            return worst
    return "done" if all(s == "done" for s in ended) else "active"


@dataclass(frozen=True)
class NodeRuns:
    status: NodeStatus
    run_ids: list[str]  # newest first


def node_runs(facts: Iterable[StepFact], *, max_run_ids: int = MAX_RUN_IDS) -> dict[str, NodeRuns]:
    """Per node: its status (from its latest run) and the ids of its latest runs.

    `facts` come newest run first; the steps of one run are together.
    """
    runs: dict[str, list[str]] = {}
    latest: dict[str, list[tuple[str, str]]] = {}
    for fact in facts:
        ids = runs.setdefault(fact.node_id, [])
        if not ids or (ids[-1] != fact.run_id and fact.run_id not in ids):
            ids.append(fact.run_id)
        if ids[0] == fact.run_id:
            latest.setdefault(fact.node_id, []).append((fact.step_status, fact.run_status))
    found: dict[str, NodeRuns] = {}
    for node_id, ids in runs.items():
        status = status_of(latest.get(node_id, []))
        if status is not None:
            found[node_id] = NodeRuns(status, ids[:max_run_ids])
    return found
