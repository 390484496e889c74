"""A finished skill's report envelope in words, for the chat reply ("mail-triage finished: 12
emails, 3 billing ..."). One small function per shipped envelope, a generic one for the rest. Pure.

Each reads the envelope defensively: a report is a skill's output, not a contract it must keep, so
a field of the wrong shape is left out rather than trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Report = Mapping[str, Any]
_MAX_CHARS = 300
_GENERIC_FIELDS = 4


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, list | dict):
        return len(value)
    return None


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def mail_triage(data: Mapping[str, Any]) -> list[str]:
    parts: list[str] = []
    if (emails := _count(data.get("emails"))) is not None:
        parts.append(_plural(emails, "email"))
    counts = data.get("counts")
    if isinstance(counts, Mapping):
        parts += [f"{n} {name}" for name, n in counts.items() if isinstance(n, int) and n > 0]
    if invalid := _count(data.get("invalid")):
        parts.append(f"{invalid} invalid")
    return parts


def monthly_bookkeeping(data: Mapping[str, Any]) -> list[str]:
    parts: list[str] = []
    if (transactions := _count(data.get("transactions"))) is not None:
        parts.append(_plural(transactions, "transaction"))
    parts += [
        f"{key} {data[key]}"
        for key in ("income", "expense", "net")
        if isinstance(data.get(key), str | int | float)
    ]
    period = data.get("period")
    if isinstance(period, Mapping) and period.get("from") and period.get("to"):
        parts.append(f"from {period['from']} to {period['to']}")
    if skipped := _count(data.get("skippedRows")):
        parts.append(f"{skipped} rows skipped")
    return parts


def git_watcher(data: Mapping[str, Any]) -> list[str]:
    if data.get("isGitRepo") is False:
        return [f"{data.get('repo', 'the folder')} is not a git repository"]
    parts: list[str] = []
    if isinstance(data.get("branch"), str):
        parts.append(f"branch {data['branch']}")
    if data.get("dirty") is False:
        parts.append("clean")
    counts = data.get("counts")
    if isinstance(counts, Mapping):
        parts += [f"{n} {name}" for name, n in counts.items() if isinstance(n, int) and n > 0]
    for key in ("ahead", "behind"):
        if isinstance(data.get(key), int) and data[key] > 0:
            parts.append(f"{data[key]} {key}")
    return parts


def generic(data: object) -> list[str]:
    """The first few scalar or countable fields: enough to show the run did something."""
    if not isinstance(data, Mapping):
        return []
    parts: list[str] = []
    for key, value in data.items():
        if len(parts) >= _GENERIC_FIELDS:
            break
        if isinstance(value, bool | str | int | float) and len(str(value)) <= 40:
            parts.append(f"{key} {value}")
        elif isinstance(value, list | dict):
            parts.append(f"{len(value)} {key}")
    return parts


KNOWN: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "mail-triage": mail_triage,
    "monthly-bookkeeping": monthly_bookkeeping,
    "git-watcher": git_watcher,
}


def summarize_report(skill: str, report: Report | None) -> str | None:
    """ "<skill> finished: <what the report says>", or None when the report says nothing usable."""
    if not isinstance(report, Mapping) or report.get("ok") is not True:
        return None
    data = report.get("data")
    known = KNOWN.get(skill)
    parts = known(data) if known is not None and isinstance(data, Mapping) else generic(data)
    if not parts:
        return None
    said = f"{skill} finished: {', '.join(parts)}"
    return said if len(said) <= _MAX_CHARS else said[: _MAX_CHARS - 1].rstrip(", ") + "…"
