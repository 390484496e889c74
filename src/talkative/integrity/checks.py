"""The domain's invariants as pure functions: rows a query found in, findings out.

Each query (queries.py) selects only the rows that break its invariant, so these functions mostly
say what is wrong in words; the ones that need a comparison the database cannot make cheaply
(version ranges, paths on disk) make it here, over plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from talkative.integrity.findings import Check, Finding, Severity

# A finished run's status -> the event its last transition recorded (runs.reducer's table).
FINISHING_EVENTS = {
    "completed": "RUN_COMPLETED",
    "failed": "RUN_FAILED",
    "cancelled": "RUN_CANCELLED",
    "rejected": "RUN_REJECTED",
}
FINISHED = frozenset(FINISHING_EVENTS)
# Runs that end only once no step is pending, running or waiting (runs.service.finish); a failed
# or cancelled run may legitimately keep steps that never started.
ENDED_CLEAN = frozenset({"completed", "rejected"})
OPEN_STEP_STATUSES = frozenset({"pending", "running", "waiting"})


class OpenStep(NamedTuple):
    tenant_id: str
    run_id: str
    run_status: str
    idx: int
    step_status: str


class RunRow(NamedTuple):
    tenant_id: str
    run_id: str
    status: str


class HeldReservation(NamedTuple):
    tenant_id: str
    run_id: str
    usage_id: int
    run_status: str
    cost: float


class ForeignRunEvent(NamedTuple):
    event_id: int
    event_tenant: str
    event_agent: str | None
    run_id: str
    run_tenant: str


class ForeignAgentEvents(NamedTuple):
    tenant_id: str
    agent_id: str
    events: int
    first_event_id: int
    owners: str  # the tenants that do have an agent of that id


class VersionRange(NamedTuple):
    tenant_id: str
    workflow_id: str
    version: int  # the version the workflow row points at
    held: int  # how many versions it holds
    lowest: int | None
    highest: int | None


class AgentWorkspace(NamedTuple):
    tenant_id: str
    agent_id: str
    stored: str


def open_steps(rows: Iterable[OpenStep]) -> list[Finding]:
    return [
        Finding(
            Check.RUN_OPEN_STEPS,
            Severity.ERROR,
            (row.tenant_id, row.run_id),
            f"run is {row.run_status} but its step {row.idx} is {row.step_status}",
        )
        for row in rows
    ]


def missing_finishing_events(rows: Iterable[RunRow]) -> list[Finding]:
    return [
        Finding(
            Check.RUN_FINISHING_EVENT,
            Severity.ERROR,
            (row.tenant_id, row.run_id),
            f"run is {row.status} but none of its events is {FINISHING_EVENTS[row.status]}",
        )
        for row in rows
    ]


def missing_finish_times(rows: Iterable[RunRow]) -> list[Finding]:
    return [
        Finding(
            Check.RUN_FINISH_TIME,
            Severity.ERROR,
            (row.tenant_id, row.run_id),
            f"run is {row.status} but has no finished_at",
        )
        for row in rows
    ]


def held_reservations(rows: Iterable[HeldReservation]) -> list[Finding]:
    return [
        Finding(
            Check.RESERVATION_HELD,
            Severity.ERROR,
            (row.tenant_id, row.run_id, f"usage:{row.usage_id}"),
            f"run is {row.run_status} and nobody plans it, yet its budget hold of {row.cost:g} USD "
            "still counts against the caps",
        )
        for row in rows
    ]


def foreign_run_events(rows: Iterable[ForeignRunEvent]) -> list[Finding]:
    return [
        Finding(
            Check.EVENT_CROSS_TENANT_RUN,
            Severity.ERROR,
            (row.event_tenant, f"event:{row.event_id}", row.run_id),
            f"event of tenant '{row.event_tenant}' names run {row.run_id} of tenant '{row.run_tenant}'",
        )
        for row in rows
    ]


def foreign_agent_events(rows: Iterable[ForeignAgentEvents]) -> list[Finding]:
    return [
        Finding(
            Check.EVENT_CROSS_TENANT_AGENT,
            Severity.WARNING,
            (row.tenant_id, row.agent_id, f"event:{row.first_event_id}"),
            f"{row.events} event(s) of tenant '{row.tenant_id}' name agent '{row.agent_id}', which "
            f"this tenant has no trace of (no agent, no run) but tenant(s) {row.owners} have",
        )
        for row in rows
    ]


def version_gaps(rows: Iterable[VersionRange]) -> list[Finding]:
    """A workflow at version N holds exactly the versions 1..N (0: none yet)."""
    found = []
    for row in rows:
        if row.version == 0 and row.held == 0:
            continue
        if row.held == row.version and row.lowest == 1 and row.highest == row.version:
            continue  # the primary key (workflow, version) makes count == range mean no hole
        held = "none" if row.held == 0 else f"{row.held} between v{row.lowest} and v{row.highest}"
        found.append(
            Finding(
                Check.WORKFLOW_VERSION_GAP,
                Severity.ERROR,
                (row.tenant_id, row.workflow_id),
                f"workflow is at v{row.version} but holds versions: {held}",
            )
        )
    return found


def workspaces(
    rows: Iterable[AgentWorkspace],
    *,
    resolve: Callable[[str], Path],
    is_dir: Callable[[Path], bool] = Path.is_dir,
) -> list[Finding]:
    """Every agent's folder exists, and no two agents share one (or hold one inside the other)."""
    found: list[Finding] = []
    owners: list[tuple[Path, AgentWorkspace]] = []
    for row in rows:
        path = resolve(row.stored)
        owners.append((path, row))
        if not is_dir(path):
            found.append(
                Finding(
                    Check.WORKSPACE_MISSING,
                    Severity.ERROR,
                    (row.tenant_id, row.agent_id),
                    f"workspace {row.stored} is not a folder on disk ({path})",
                )
            )
    owners.sort(key=lambda pair: pair[0].parts)
    # Sorted by path parts, a folder and every folder inside it are neighbours of the first one.
    for i, (path, row) in enumerate(owners):
        for other_path, other in owners[i + 1 :]:
            if other_path != path and not other_path.is_relative_to(path):
                break
            how = "the same folder" if other_path == path else "a folder inside it"
            found.append(
                Finding(
                    Check.WORKSPACE_SHARED,
                    Severity.ERROR,
                    (row.tenant_id, row.agent_id, other.tenant_id, other.agent_id),
                    f"agent '{other.agent_id}' of '{other.tenant_id}' uses {how} ({other.stored}) "
                    f"as agent '{row.agent_id}' of '{row.tenant_id}' ({row.stored})",
                )
            )
    return found
