"""The mail-triage template, run for real on the seeded sample and on inboxes written here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from talkative.skills.catalogue import get_template
from tests.skills.helpers import RunScript, ScriptRun, read_report

SCRIPT = "skills/mail-triage/scripts/triage.py"


def run_installed(
    install_template: Callable[[str], Path], run_script: RunScript, *args: str, inbox: Any = None
) -> tuple[Path, ScriptRun]:
    workspace = install_template("mail-triage")
    if inbox is not None:
        (workspace / "inputs" / "inbox.json").write_text(json.dumps(inbox), encoding="utf-8")
    return workspace, run_script(workspace, SCRIPT, *args)


def test_sample_inbox_via_the_manifest_command(
    install_template: Callable[[str], Path], run_script: RunScript
) -> None:
    workspace = install_template("mail-triage")
    argv = get_template("mail-triage").manifest.argv
    run = run_script(workspace, *argv[1:])

    assert run.returncode == 0, run.stderr
    envelope = run.envelope
    assert envelope == read_report(workspace, "mail-triage")
    assert envelope["ok"] is True
    assert envelope["skillName"] == "mail-triage"
    data = envelope["data"]
    assert data["counts"] == {"billing": 3, "work": 4, "personal": 3, "spam": 2}
    assert envelope["metrics"] == {"emails": 12, "invalid": 0}
    by_id = {email["id"]: email for email in data["emails"]}
    expected = {
        "m-001": ("billing", "forward to accounting"),
        "m-002": ("work", "reply"),
        "m-003": ("personal", "archive"),
        "m-004": ("spam", "delete"),
        "m-008": ("spam", "delete"),
        "m-011": ("personal", "review"),  # no rule fires: a guess, so a human looks
        "m-012": ("work", "reply"),  # gmail sender, but about a deploy
    }
    for email_id, (category, action) in expected.items():
        assert (by_id[email_id]["category"], by_id[email_id]["suggestedAction"]) == (category, action)
    assert by_id["m-011"]["confidence"] == 0.25
    assert all(0 <= email["confidence"] <= 1 for email in data["emails"])


def email(email_id: str, sender: str, subject: str, body: str = "") -> dict[str, str]:
    return {"id": email_id, "from": sender, "subject": subject, "body": body, "date": "2024-05-01"}


# (email, category, confidence, action), confidence = top / (total + 1) per references/README.md
CASES = [
    # sender billing@ (3) + subject "invoice" (2) = 5 -> 5/6
    (email("a", "Vendor <invoices@vendor.example>", "Invoice 12"), "billing", 0.83, "forward to accounting"),
    # subject "lunch" (2) + free-mail sender (1) = 3 -> 3/4
    (email("b", "x@gmail.com", "Lunch?"), "personal", 0.75, "archive"),
    # spam phrase (3) -> 3/4, confident enough to suggest deleting
    (email("c", "promo@shop.example", "Hello", "Click HERE today"), "spam", 0.75, "delete"),
    # subject "meeting" (2) -> 2/3
    (email("d", "a@b.example", "Meeting moved"), "work", 0.67, "reply"),
    # subject "prize" (2) -> 2/3: spam, but not sure enough to delete
    (email("e", "a@b.example", "Your prize"), "spam", 0.67, "review"),
    # one body keyword (1) -> 1/2; "billion" does not count as "bill"
    (email("f", "a@b.example", "Numbers", "a billion rows, one report"), "work", 0.5, "reply"),
    # tie billing 2 / work 2: billing wins the tie -> 2/5
    (email("g", "a@b.example", "Invoice for the project"), "billing", 0.4, "review"),
]


def test_rules_on_a_hand_written_inbox(
    install_template: Callable[[str], Path], run_script: RunScript
) -> None:
    inbox = [case[0] for case in CASES]
    workspace, run = run_installed(install_template, run_script, inbox=inbox)

    assert run.returncode == 0, run.stderr
    got = {
        e["id"]: (e["category"], e["confidence"], e["suggestedAction"])
        for e in run.envelope["data"]["emails"]
    }
    assert got == {case[0]["id"]: case[1:] for case in CASES}
    assert run.envelope["data"]["counts"] == {"billing": 2, "work": 2, "personal": 1, "spam": 2}
    assert read_report(workspace, "mail-triage") == run.envelope


@pytest.mark.parametrize(
    ("args", "category", "confidence"),
    [((), "personal", 0.25), (("--work-domain", "acme.example"), "work", 0.75)],
)
def test_work_domain_option(
    install_template: Callable[[str], Path],
    run_script: RunScript,
    args: tuple[str, ...],
    category: str,
    confidence: float,
) -> None:
    inbox = [email("w", "Boss <boss@ACME.example>", "hi")]
    _, run = run_installed(install_template, run_script, *args, inbox=inbox)
    [result] = run.envelope["data"]["emails"]
    assert (result["category"], result["confidence"]) == (category, confidence)


def test_unusable_entries_are_listed_not_fatal(
    install_template: Callable[[str], Path], run_script: RunScript
) -> None:
    inbox = [
        42,
        {"id": "x", "from": 1, "subject": "s"},
        {"id": True, "from": "a", "subject": "b"},
        email("ok", "a", "b"),
    ]
    _, run = run_installed(install_template, run_script, inbox=inbox)
    assert run.returncode == 0
    assert [e["id"] for e in run.envelope["data"]["emails"]] == ["ok"]
    assert run.envelope["data"]["invalid"] == [
        {"index": 0, "error": "not a JSON object"},
        {"index": 1, "error": "'from' must be a string"},
        {"index": 2, "error": "'id' must be a string or a number"},
    ]


@pytest.mark.parametrize(
    ("content", "args", "error"),
    [
        (None, (), "inbox file not found: inputs/inbox.json"),
        ("{not json", (), "inbox inputs/inbox.json is not valid JSON"),
        ('{"emails": []}', (), "inbox inputs/inbox.json must be a JSON list of emails"),
        ("[]", ("--inbox", "../outside.json"), "path '../outside.json' is outside the workspace"),
    ],
)
def test_missing_or_invalid_inbox_fails_clearly(
    install_template: Callable[[str], Path],
    run_script: RunScript,
    content: str | None,
    args: tuple[str, ...],
    error: str,
) -> None:
    workspace = install_template("mail-triage")
    inbox = workspace / "inputs" / "inbox.json"
    if content is None:
        inbox.unlink()
    else:
        inbox.write_text(content, encoding="utf-8")
    run = run_script(workspace, SCRIPT, *args)

    assert run.returncode == 1
    assert run.envelope["ok"] is False
    assert run.envelope["data"] is None
    assert run.envelope["error"].startswith(error)
    assert read_report(workspace, "mail-triage") == run.envelope
