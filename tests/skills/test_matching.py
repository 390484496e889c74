"""Matching tasks to skills by trigger words, and scoring a message against skills."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from talkative.skills.catalogue import list_templates
from talkative.skills.matching import SkillMatch, match_skills, score_skills, trigger_in


@dataclass(frozen=True)
class Fake:
    name: str
    triggers: tuple[str, ...]


MANIFESTS = [skill.manifest for skill in list_templates()]


@pytest.mark.parametrize(
    ("trigger", "text", "expected"),
    [
        ("mail", "check my mail", True),
        ("mail", "MAIL please", True),
        ("mail", "check the mailbox", False),
        ("mail", "e-mail", True),
        ("git", "digital", False),
        ("month end", "close the month   end books", True),
        ("month end", "month-end", False),
        ("books", "books.", True),
        ("", "anything", False),
    ],
)
def test_trigger_in(trigger: str, text: str, expected: bool) -> None:
    assert trigger_in(trigger, text) is expected


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        (["Triage inbox now"], [("mail-triage", 0, "triage")]),
        (["collect invoices then pay supplier"], []),
        (["Summarise the monthly expenses"], [("monthly-bookkeeping", 0, "expenses")]),
        (
            ["check the repo", "triage my email", "check the repo branch again"],
            [("git-watcher", 0, "repo"), ("mail-triage", 1, "triage")],
        ),
        (
            ["what changed since the last commit?", "and the ledger"],
            [("git-watcher", 0, "commit"), ("monthly-bookkeeping", 1, "ledger")],
        ),
        (["join the digital mailing list"], []),
        ([], []),
    ],
)
def test_match_skills_against_templates(tasks: list[str], expected: list[tuple[str, int, str]]) -> None:
    matches = match_skills(tasks, MANIFESTS)
    assert [(m.skill_name, m.task_index, m.trigger) for m in matches] == expected
    for match in matches:
        assert match.task == tasks[match.task_index]


def test_two_skills_can_match_one_task_in_skill_order() -> None:
    skills = [Fake("b", ("report",)), Fake("a", ("report",))]
    assert match_skills(["send the report"], skills) == [
        SkillMatch("b", "send the report", 0, "report"),
        SkillMatch("a", "send the report", 0, "report"),
    ]


def test_score_skills_ranks_best_first() -> None:
    scores = score_skills("triage my inbox and email the git branch summary", MANIFESTS)
    assert [(s.skill_name, s.score) for s in scores] == [("mail-triage", 3), ("git-watcher", 2)]
    assert scores[0].triggers == ("triage", "inbox", "email")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("run the mail triage", [("mail-triage", 4)]),  # name (2) + "mail" + "triage"
        ("month end books", [("monthly-bookkeeping", 3)]),  # a two-word phrase counts 2
        ("hello there", []),
    ],
)
def test_score_skills_table(text: str, expected: list[tuple[str, int]]) -> None:
    assert [(s.skill_name, s.score) for s in score_skills(text, MANIFESTS)] == expected


def test_score_ties_break_by_name() -> None:
    skills = [Fake("zeta", ("sync",)), Fake("alpha", ("sync",))]
    assert [s.skill_name for s in score_skills("sync now", skills)] == ["alpha", "zeta"]
