"""The notices of a reply and the tasks no skill matched: pure, by table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from talkative.runs.models import Run
from talkative.runs.notices import notices_for, sentences
from talkative.runs.planner import unmatched_tasks
from talkative.runs.replies import reply_from


@dataclass(frozen=True)
class _Skill:
    name: str
    triggers: tuple[str, ...]


def test_nothing_to_say_says_nothing() -> None:
    assert notices_for() == []
    assert sentences([]) == ""


@pytest.mark.parametrize(
    ("kwargs", "code", "message"),
    [
        ({"unmatched": ["Pay bob"]}, "TASKS_UNMATCHED", "No skill matched 1 task: 'Pay bob'."),
        (
            {"dropped": ["A", "B"], "dropped_count": 2, "kept": 20},
            "TASKS_DROPPED",
            "2 more tasks dropped over the limit of 20 per message, not planned: 'A', 'B'.",
        ),
        (
            {"dropped": ["A"], "dropped_count": 3, "kept": 20},
            "TASKS_DROPPED",
            "3 more tasks dropped over the limit of 20 per message, not planned: 'A' (and 2 more).",
        ),
        (
            {"heartbeat_asked": True},
            "HEARTBEAT_EMPTY",
            "No heartbeat ran: this agent's HEARTBEAT.md has no RUN lines.",
        ),
        ({"workflow_changed": False, "version": 3}, "WORKFLOW_UNCHANGED", "Workflow unchanged (still v3)."),
    ],
)
def test_each_notice(kwargs: dict[str, Any], code: str, message: str) -> None:
    [notice] = notices_for(**kwargs)
    assert (notice.code, notice.message) == (code, message)


def test_a_heartbeat_with_lines_is_no_notice() -> None:
    assert notices_for(heartbeat_asked=True, heartbeat_lines=1) == []


def test_notices_come_in_the_order_the_reply_says_them() -> None:
    found = notices_for(
        unmatched=["x"], dropped_count=1, dropped=["y"], heartbeat_asked=True, workflow_changed=False
    )
    assert [n.code for n in found] == [
        "TASKS_UNMATCHED",
        "TASKS_DROPPED",
        "HEARTBEAT_EMPTY",
        "WORKFLOW_UNCHANGED",
    ]
    assert sentences(found).startswith("No skill matched 1 task: 'x'. 1 more task dropped")


@pytest.mark.parametrize(
    ("tasks", "unmatched"),
    [
        (["Triage inbox", "Pay bob"], ["Pay bob"]),
        (["Run heartbeat now"], []),  # a meta-request is the agent's own business
        (["Check the mailbox"], ["Check the mailbox"]),  # whole words: "mail" is not "mailbox"
        ([], []),
    ],
)
def test_unmatched_tasks(tasks: list[str], unmatched: list[str]) -> None:
    skills = [_Skill("mail-triage", ("triage", "mail"))]
    assert unmatched_tasks(tasks, skills) == unmatched


def test_the_reply_carries_stored_notices_and_skips_one_that_no_longer_fits() -> None:
    good = notices_for(unmatched=["Pay bob"])[0].model_dump(mode="json")
    run = Run(
        id="r1",
        agent_id="a1",
        status="waiting_approval",
        reply=None,
        result={
            "summary": "Detected 1 task: Pay bob.",
            "unmatched_tasks": ["Pay bob"],
            "interpretation": {"dropped_tasks": ["Later"]},
            "notices": [good, {"code": "NO_SUCH_CODE", "message": "?"}, "junk"],
        },
    )
    reply = reply_from(run, [], [])
    assert [n.code for n in reply.notices] == ["TASKS_UNMATCHED"]
    assert (reply.unmatched_tasks, reply.dropped_tasks) == (["Pay bob"], ["Later"])
    assert reply.reply == (
        "Detected 1 task: Pay bob. No skill matched 1 task: 'Pay bob'. Waiting for a human to approve the next step."
    )
