"""Mail triage: classify an inbox into billing/work/personal/spam with transparent rules.

The rules, weights and confidence formula are documented in ../references/README.md. Each triage
also adds one line to a history journal, once per step even if the step is started twice.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from talkative.skills.report import (
    SkillArgumentParser,
    SkillError,
    SkillResult,
    append_record,
    once,
    resolve_in_workspace,
    run_skill,
)

SKILL = "mail-triage"
CATEGORIES = ("billing", "work", "personal", "spam")
# Tie-break order: when scores are equal, the earlier category wins (cheapest mistake first).
TIE_ORDER = ("spam", "billing", "work", "personal")


def words(table: str) -> tuple[str, ...]:
    """A "|"-separated table of words and phrases (keeps the rule tables readable)."""
    return tuple(table.split("|"))


# Matched as whole words, case-insensitively, in the subject and the body.
KEYWORDS = {
    "billing": words(
        "invoice|invoices|receipt|payment|payments|bill|billing|overdue|due|amount"
        "|subscription|renewal|statement|remittance|vat|tax|purchase order"
    ),
    "work": words(
        "meeting|agenda|project|deadline|review|report|sprint|deploy|release|client"
        "|proposal|standup|roadmap|quarterly|ticket|pull request|onboarding"
    ),
    "personal": words(
        "birthday|dinner|family|weekend|party|wedding|vacation|holiday|photos|lunch|friends|hiking|mom|dad"
    ),
    "spam": words("unsubscribe|winner|lottery|bitcoin|crypto|prize|discount"),
}
SPAM_PHRASES = words(
    "you have won|claim your prize|click here|act now|limited time offer|100% free|risk-free"
    "|free money|wire the fee"
)
BILLING_SENDERS = words("billing|invoices|invoice|accounts|accounting|payments|finance")
FREE_MAIL = words("gmail.com|yahoo.com|hotmail.com|outlook.com|icloud.com|proton.me")
ACTIONS = {
    "billing": "forward to accounting",
    "work": "reply",
    "personal": "archive",
    "spam": "delete",
}
SUBJECT_WEIGHT, BODY_WEIGHT, SENDER_WEIGHT, PHRASE_WEIGHT, FREE_MAIL_WEIGHT = 2, 1, 3, 3, 1
UNSURE, SURE_ENOUGH_TO_DELETE = 0.5, 0.7
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

Email = dict[str, Any]


class PhraseTable:
    """Which of many phrases occur in a text, each as a whole word (or words), case-insensitively
    ("bill" does not match "billion").

    The single words share one pattern with a group each, so a text is scanned once instead of
    once per word and a run compiles a handful of patterns instead of one per phrase (compiling
    them was most of a run). One scan finds them all: a match covers exactly one whole word, and
    no other single word can match inside it. Phrases of several words or with other characters
    ("100% free") could overlap one another, so each keeps a pattern of its own.
    """

    def __init__(self, phrases: tuple[str, ...]) -> None:
        self.phrases = phrases
        self._words = tuple(p for p in phrases if re.fullmatch(r"\w+", p))
        alternatives = "|".join(f"({re.escape(word)})" for word in self._words)
        self._scan = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if self._words else None
        self._others = [(p, _phrase_pattern(p)) for p in phrases if p not in self._words]

    def found(self, text: str) -> set[str]:
        found = {p for p, pattern in self._others if pattern.search(text)}
        if self._scan is not None:
            found.update(
                self._words[match.lastindex - 1] for match in self._scan.finditer(text) if match.lastindex
            )
        return found


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


KEYWORD_TABLES = {category: PhraseTable(phrases) for category, phrases in KEYWORDS.items()}
SPAM_TABLE = PhraseTable(SPAM_PHRASES)


def sender_address(sender: str) -> str:
    """The bare address of a From field such as 'Alice <alice@example.com>'."""
    found = ADDRESS.search(sender)
    return found.group(0).lower() if found else sender.strip().lower()


def score(email: Email, work_domains: tuple[str, ...]) -> tuple[dict[str, int], list[str]]:
    """Points per category and the rules that produced them."""
    points = dict.fromkeys(CATEGORIES, 0)
    reasons: list[str] = []

    def hit(category: str, weight: int, reason: str) -> None:
        points[category] += weight
        reasons.append(reason)

    subject, body = email["subject"], email["body"]
    for category, table in KEYWORD_TABLES.items():
        in_subject, in_body = table.found(subject), table.found(body)
        for word in table.phrases:  # in table order: the reasons read the same on every run
            if word in in_subject:
                hit(category, SUBJECT_WEIGHT, f"subject:{word}")
            if word in in_body:
                hit(category, BODY_WEIGHT, f"body:{word}")
    spam = SPAM_TABLE.found(f"{subject}\n{body}")
    for phrase in SPAM_TABLE.phrases:
        if phrase in spam:
            hit("spam", PHRASE_WEIGHT, f"phrase:{phrase}")
    local, _, domain = sender_address(email["from"]).partition("@")
    if local in BILLING_SENDERS:
        hit("billing", SENDER_WEIGHT, f"sender:{local}@")
    if domain in work_domains:
        hit("work", SENDER_WEIGHT, f"sender:@{domain}")
    elif domain in FREE_MAIL:
        hit("personal", FREE_MAIL_WEIGHT, f"sender:@{domain}")
    return points, reasons


def classify(email: Email, work_domains: tuple[str, ...]) -> Email:
    points, reasons = score(email, work_domains)
    total = sum(points.values())
    if total == 0:
        category, confidence = "personal", 0.25
    else:
        category = max(TIE_ORDER, key=lambda c: (points[c], -TIE_ORDER.index(c)))
        confidence = round(points[category] / (total + 1), 2)
    action = ACTIONS[category]
    if confidence < UNSURE or (category == "spam" and confidence < SURE_ENOUGH_TO_DELETE):
        action = "review"
    return {
        "id": email["id"],
        "from": email["from"],
        "subject": email["subject"],
        "date": email["date"],
        "category": category,
        "confidence": confidence,
        "suggestedAction": action,
        "reasons": reasons,
    }


def validate(item: Any) -> Email:
    """A usable email, or a ValueError saying what is wrong with the entry."""
    if not isinstance(item, dict):
        raise ValueError("not a JSON object")
    if not isinstance(item.get("id"), str | int) or isinstance(item.get("id"), bool):
        raise ValueError("'id' must be a string or a number")
    for key in ("from", "subject"):
        if not isinstance(item.get(key), str):
            raise ValueError(f"{key!r} must be a string")
    for key in ("body", "date"):
        if not isinstance(item.get(key, ""), str):
            raise ValueError(f"{key!r} must be a string")
    return {**item, "body": item.get("body", ""), "date": item.get("date", "")}


def load_inbox(path: str) -> list[Any]:
    full = resolve_in_workspace(path)
    try:
        with open(full, encoding="utf-8") as handle:
            inbox = json.load(handle)
    except FileNotFoundError:
        raise SkillError(f"inbox file not found: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SkillError(f"inbox {path} is not valid JSON: {exc}") from None
    if not isinstance(inbox, list):
        raise SkillError(f"inbox {path} must be a JSON list of emails")
    return inbox


def main(argv: list[str]) -> SkillResult:
    parser = SkillArgumentParser(prog="triage.py", description=__doc__)
    parser.add_argument("--inbox", default="inputs/inbox.json")
    parser.add_argument("--work-domain", action="append", default=[], dest="work_domains")
    parser.add_argument("--history", default="outputs/mail-triage.history.jsonl", help="'' for none")
    args = parser.parse_args(argv)
    work_domains = tuple(domain.lower().lstrip("@") for domain in args.work_domains)

    emails: list[Email] = []
    invalid: list[dict[str, Any]] = []
    for index, item in enumerate(load_inbox(args.inbox)):
        try:
            emails.append(classify(validate(item), work_domains))
        except ValueError as exc:
            invalid.append({"index": index, "error": str(exc)})
    counts = dict.fromkeys(CATEGORIES, 0)
    for email in emails:
        counts[email["category"]] += 1
    data = {"emails": emails, "counts": counts, "invalid": invalid}
    if args.history:
        # An append: a step started again (after a takeover) must not add its line twice.
        with once("history") as todo:
            if todo:
                triaged = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                entry = {"triagedAt": triaged, "counts": counts, "invalid": len(invalid)}
                append_record(args.history, entry)
    return SkillResult(data, metrics={"emails": len(emails), "invalid": len(invalid)})


if __name__ == "__main__":
    raise SystemExit(run_skill(SKILL, main))
