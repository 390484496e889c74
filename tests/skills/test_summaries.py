"""A finished skill's report in words: one function per shipped envelope, a generic fallback."""

from __future__ import annotations

from typing import Any

import pytest

from talkative.skills.summaries import summarize_report


def _ok(data: Any) -> dict[str, Any]:
    return {"ok": True, "generatedAt": "2026-12-02T00:00:00Z", "skillName": "x", "data": data}


@pytest.mark.parametrize(
    ("skill", "data", "said"),
    [
        (
            "mail-triage",
            {
                "emails": [{}] * 12,
                "counts": {"billing": 5, "work": 4, "personal": 0, "spam": 3},
                "invalid": [],
            },
            "mail-triage finished: 12 emails, 5 billing, 4 work, 3 spam",
        ),
        (
            "mail-triage",
            {"emails": [{}], "counts": {}, "invalid": [{}]},
            "mail-triage finished: 1 email, 1 invalid",
        ),
        (
            "monthly-bookkeeping",
            {
                "income": "1200.00",
                "expense": "300.50",
                "net": "899.50",
                "transactions": 14,
                "period": {"from": "2026-11-01", "to": "2026-11-30"},
                "skippedRows": [],
            },
            "monthly-bookkeeping finished: 14 transactions, income 1200.00, expense 300.50, net 899.50, "
            "from 2026-11-01 to 2026-11-30",
        ),
        (
            "git-watcher",
            {
                "isGitRepo": True,
                "branch": "main",
                "dirty": True,
                "counts": {"staged": 1, "untracked": 2},
                "ahead": 3,
            },
            "git-watcher finished: branch main, 1 staged, 2 untracked, 3 ahead",
        ),
        (
            "git-watcher",
            {"isGitRepo": True, "branch": "main", "dirty": False, "counts": {}},
            "git-watcher finished: branch main, clean",
        ),
        (
            "git-watcher",
            {"isGitRepo": False, "repo": "code"},
            "git-watcher finished: code is not a git repository",
        ),
        (
            "my-skill",
            {"rows": [1, 2, 3], "status": "fine", "nested": {"a": 1}},
            "my-skill finished: 3 rows, status fine, 1 nested",
        ),
    ],
)
def test_known_envelopes_and_the_generic_one(skill: str, data: Any, said: str) -> None:
    assert summarize_report(skill, _ok(data)) == said


@pytest.mark.parametrize(
    "report",
    [
        None,
        {"ok": False, "error": "boom", "data": {"emails": []}},
        _ok(None),
        _ok({}),
        _ok("text"),
        _ok([1, 2]),
    ],
)
def test_nothing_usable_is_none(report: Any) -> None:
    assert summarize_report("my-skill", report) is None


def test_a_known_skill_with_a_wrong_shape_falls_back_and_never_raises() -> None:
    assert summarize_report("mail-triage", _ok({"emails": "many", "counts": [1]})) is None
    assert summarize_report("mail-triage", _ok([1])) is None


def test_long_summaries_are_cut() -> None:
    said = summarize_report("my-skill", _ok({f"k{i}": "v" * 40 for i in range(4)}))
    assert said is not None and len(said) <= 300
