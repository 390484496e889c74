"""A node's status from the run steps that executed it (pure, by table)."""

from __future__ import annotations

import pytest

from talkative.workflows.status import StepFact, node_runs, status_of


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], None),
        ([("done", "completed")], "done"),
        ([("done", "completed"), ("done", "completed")], "done"),
        ([("running", "running")], "active"),
        ([("pending", "running")], "active"),
        ([("waiting", "waiting_approval")], "active"),
        ([("done", "running"), ("pending", "running")], "active"),
        ([("pending", "paused")], "active"),
        ([("failed", "failed")], "failed"),
        ([("done", "completed"), ("failed", "completed")], "failed"),
        ([("rejected", "completed"), ("rejected", "completed")], "rejected"),
        ([("cancelled", "cancelled")], "cancelled"),
        ([("pending", "cancelled")], "cancelled"),  # its run ended before it ran
        ([("pending", "failed")], "cancelled"),
        ([("failed", "failed"), ("pending", "failed")], "failed"),  # the worst ending wins
        ([("rejected", "completed"), ("cancelled", "cancelled")], "rejected"),
    ],
)
def test_status_of(steps: list[tuple[str, str]], expected: str | None) -> None:
    assert status_of(steps) == expected


def test_the_latest_run_decides_and_run_ids_are_newest_first() -> None:
    facts = [  # newest run first
        StepFact("pay", "r3", "waiting", "waiting_approval"),
        StepFact("mail", "r2", "done", "completed"),
        StepFact("pay", "r2", "rejected", "completed"),
        StepFact("mail", "r1", "failed", "failed"),
        StepFact("pay", "r1", "done", "completed"),
    ]
    found = node_runs(facts)
    assert (found["pay"].status, found["pay"].run_ids) == ("active", ["r3", "r2", "r1"])
    assert (found["mail"].status, found["mail"].run_ids) == ("done", ["r2", "r1"])


def test_every_step_of_the_latest_run_counts_and_run_ids_are_bounded() -> None:
    facts = [StepFact("n", "r9", "done", "completed"), StepFact("n", "r9", "failed", "completed")]
    facts += [StepFact("n", f"r{i}", "done", "completed") for i in range(8, 0, -1)]
    found = node_runs(facts, max_run_ids=3)
    assert (found["n"].status, found["n"].run_ids) == ("failed", ["r9", "r8", "r7"])
