"""The pure halves of the domain checks, by table: rows in, findings out."""

from __future__ import annotations

from pathlib import Path

import pytest

from talkative.integrity import checks
from talkative.integrity.findings import Check, Severity

ROOT = Path("/srv/workspaces")


def _resolve(stored: str) -> Path:
    return ROOT / stored.removeprefix("workspaces/")


@pytest.mark.parametrize(
    ("version", "held", "lowest", "highest", "gap"),
    [
        (0, 0, None, None, False),  # a new workflow: no version yet
        (1, 1, 1, 1, False),
        (3, 3, 1, 3, False),
        (3, 2, 1, 3, True),  # v2 missing
        (3, 3, 2, 4, True),  # v1 missing, a v4 the row does not point at
        (2, 0, None, None, True),  # points at versions it does not hold
        (0, 1, 1, 1, True),  # holds a version it does not point at
        (2, 2, 1, 2, False),
    ],
)
def test_version_gaps(version: int, held: int, lowest: int | None, highest: int | None, gap: bool) -> None:
    found = checks.version_gaps([checks.VersionRange("t", "wf", version, held, lowest, highest)])
    assert bool(found) is gap
    if gap:
        assert found[0].check == Check.WORKFLOW_VERSION_GAP and found[0].subjects == ("t", "wf")
        assert f"v{version}" in found[0].detail


def test_workspaces_missing_and_shared() -> None:
    rows = [
        checks.AgentWorkspace("a", "one", "workspaces/a/one"),
        checks.AgentWorkspace("a", "two", "workspaces/a/two"),
        checks.AgentWorkspace("b", "one", "workspaces/a/one"),  # the same folder as a/one
        checks.AgentWorkspace("b", "inner", "workspaces/a/two/inner"),  # inside a/two
        checks.AgentWorkspace("b", "twofold", "workspaces/a/twofold"),  # a name that starts alike
    ]
    present = {_resolve(r.stored) for r in rows} - {ROOT / "a/twofold"}
    found = checks.workspaces(rows, resolve=_resolve, is_dir=lambda p: p in present)
    missing = [f.subjects for f in found if f.check == Check.WORKSPACE_MISSING]
    shared = sorted(f.subjects for f in found if f.check == Check.WORKSPACE_SHARED)
    assert missing == [("b", "twofold")]
    assert shared == [("a", "one", "b", "one"), ("a", "two", "b", "inner")]
    assert all(f.severity == Severity.ERROR for f in found)


def test_workspaces_of_healthy_agents_find_nothing() -> None:
    rows = [checks.AgentWorkspace(t, a, f"workspaces/{t}/{a}") for t in ("a", "b") for a in ("x", "y")]
    assert checks.workspaces(rows, resolve=_resolve, is_dir=lambda _: True) == []


def test_findings_name_their_subjects() -> None:
    (step,) = checks.open_steps([checks.OpenStep("t", "run-1", "completed", 0, "pending")])
    assert step.subjects == ("t", "run-1") and "step 0 is pending" in step.detail
    (end,) = checks.missing_finishing_events([checks.RunRow("t", "run-2", "cancelled")])
    assert "RUN_CANCELLED" in end.detail
    (hold,) = checks.held_reservations([checks.HeldReservation("t", "run-3", 7, "failed", 0.25)])
    assert hold.subjects == ("t", "run-3", "usage:7") and hold.check == Check.RESERVATION_HELD
    (foreign,) = checks.foreign_run_events([checks.ForeignRunEvent(9, "b", "x", "run-4", "a")])
    assert foreign.subjects == ("b", "event:9", "run-4") and "tenant 'a'" in foreign.detail
    (agent,) = checks.foreign_agent_events([checks.ForeignAgentEvents("c", "x", 2, 11, "'a'")])
    assert agent.severity == Severity.WARNING and agent.check == Check.EVENT_CROSS_TENANT_AGENT
