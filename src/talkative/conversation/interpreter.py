"""The offline, deterministic interpreter: a message in, ordered tasks and suggested graph out.

It is the default provider (no network, no keys); an LLM-backed provider implements the same
`Interpreter` protocol and returns the same `Interpretation` shape.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from talkative.conversation.meta import is_meta_request
from talkative.conversation.schemas import (
    MAX_DROPPED_NAMES,
    MAX_TASK_CHARS,
    MAX_TASKS,
    Interpretation,
    Language,
    SuggestedEdge,
    SuggestedNode,
    Suggestions,
    Task,
    TaskLink,
    task_key,
)

# One pass over the text finds every separator. Numbers survive: "," splits unless it sits
# between digits ("1,200"), "." only ends a sentence when whitespace or the end follows ("3.5",
# "example.com"). Words match whole (hyphens and apostrophes count as letters, so
# "rock-and-roll" stays); "and then"/"y luego" come before "and"/"y" so the longer form wins.
_SEPARATOR = re.compile(
    r"""
      ->|→|>|;|[\r\n]|[!?]
    | ,(?!\d)|(?<!\d),
    | \.(?=\s|$)
    | (?<![\w'\u2019-])(?:and\s+then|y\s+luego|then|and|luego|y)(?![\w'\u2019-])
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Leftovers of separators and list markers; quotes and brackets are kept, they carry meaning.
_TRIM = " .,;:!?¿¡-\u2013\u2014>→=*•·…"  # with en and em dashes
_SLUG_CHARS = 48  # leaves room for "-<n>" suffixes and "<a>--<b>" edge ids within MAX_ID_CHARS
_LANGUAGE_SCAN_CHARS = 2000
# Past this a message is a pasted document, not instructions; scanning stops so cost stays bounded
# even when most pieces are duplicates or debris that never fill the task cap.
MAX_INPUT_CHARS = 20_000

_SPANISH_WORDS = frozenset(
    {
        "y",
        "luego",
        "el",
        "la",
        "los",
        "las",
        "de",
        "del",
        "para",
        "con",
        "por",
        "un",
        "una",
        "correo",
        "revisar",
        "pagar",
        "proveedor",
        "factura",
        "facturas",
        "enviar",
        "informe",
        "cliente",
        "clientes",
        "pago",
        "mes",
        "semana",
        "hoy",
        "mañana",
        "después",
    }
)
_ENGLISH_WORDS = frozenset(
    {
        "and",
        "then",
        "the",
        "to",
        "of",
        "for",
        "with",
        "a",
        "an",
        "pay",
        "send",
        "check",
        "review",
        "report",
        "invoice",
        "invoices",
        "email",
        "inbox",
        "customer",
        "customers",
        "supplier",
        "month",
        "week",
        "today",
        "tomorrow",
    }
)
_SPANISH_MARKS = frozenset("áéíóúñü¿¡")


class Interpreter(Protocol):
    """What every interpreter provider offers: text in, an `Interpretation` out."""

    def interpret(self, text: str) -> Interpretation: ...


@dataclass(frozen=True)
class LocalInterpreter:
    """The offline provider; its limits are configurable so a tenant can tighten them."""

    max_tasks: int = MAX_TASKS
    max_task_chars: int = MAX_TASK_CHARS

    def interpret(self, text: str) -> Interpretation:
        return interpret(text, max_tasks=self.max_tasks, max_task_chars=self.max_task_chars)


def interpret(
    text: str, *, max_tasks: int = MAX_TASKS, max_task_chars: int = MAX_TASK_CHARS
) -> Interpretation:
    """Split `text` into ordered, de-duplicated tasks and suggest one chained node per task."""
    names, dropped = split_with_dropped(text, max_tasks=max_tasks, max_task_chars=max_task_chars)
    return assemble(names, list(itertools.pairwise(range(len(names)))), text=text, dropped=dropped)


def assemble(
    names: list[str], links: Sequence[tuple[int, int]], *, text: str, dropped: Sequence[str] = ()
) -> Interpretation:
    """The interpretation of unique task `names` linked by index pairs (every interpreter's shape).

    Meta-requests stay tasks (the planner acts on them) but are left out of the suggested graph;
    an edge through one is bridged, so "a, run heartbeat, b" still suggests a -> b.
    """
    ids = _unique_slugs(names)
    pairs: list[tuple[str, str]] = []
    for i, j in links:
        pair = (ids[i], ids[j])
        if pair[0] != pair[1] and pair not in pairs:
            pairs.append(pair)
    tasks = [
        Task(id=task_id, name=name, meta=is_meta_request(name))
        for task_id, name in zip(ids, names, strict=True)
    ]
    meta = {t.id for t in tasks if t.meta}
    return Interpretation(
        tasks=tasks,
        links=[TaskLink(source=a, target=b) for a, b in pairs],
        suggestions=Suggestions(
            nodes=[SuggestedNode(id=t.id, name=t.name) for t in tasks if not t.meta],
            edges=[SuggestedEdge(id=f"{a}--{b}", source=a, target=b) for a, b in _bridged(pairs, meta)],
        ),
        language=guess_language(text) if tasks else None,
        summary=_summary(names, len(dropped)),
        dropped_tasks=list(dropped[:MAX_DROPPED_NAMES]),
        dropped_count=len(dropped),
    )


def split_tasks(text: str, *, max_tasks: int = MAX_TASKS, max_task_chars: int = MAX_TASK_CHARS) -> list[str]:
    """Task names in order of first appearance, unique by `task_key`."""
    return split_with_dropped(text, max_tasks=max_tasks, max_task_chars=max_task_chars)[0]


def split_with_dropped(
    text: str, *, max_tasks: int = MAX_TASKS, max_task_chars: int = MAX_TASK_CHARS
) -> tuple[list[str], list[str]]:
    """`split_tasks`, and the unique tasks past `max_tasks` that were dropped (so a reply can say so)."""
    # Limits only tighten: the schema bounds hold for every provider.
    max_tasks, max_task_chars = min(max_tasks, MAX_TASKS), min(max_task_chars, MAX_TASK_CHARS)
    names: list[str] = []
    dropped: list[str] = []
    seen: set[str] = set()
    for piece in _pieces(text):
        name = _clean(piece, max_task_chars)
        key = task_key(name)
        if name and key not in seen:
            seen.add(key)
            (names if len(names) < max_tasks else dropped).append(name)
    return names, dropped


def guess_language(text: str) -> Language:
    """Spanish ("es") when the text reads more Spanish than English, else English ("en")."""
    sample = text[:_LANGUAGE_SCAN_CHARS].casefold()
    words = re.findall(r"[^\W\d_]+", sample)
    spanish = sum(w in _SPANISH_WORDS for w in words) + 2 * sum(c in _SPANISH_MARKS for c in sample)
    english = sum(w in _ENGLISH_WORDS for w in words)
    return "es" if spanish > english else "en"


def slugify(name: str, *, max_chars: int = _SLUG_CHARS) -> str:
    """A lowercase ASCII slug ("Revisar correo" -> "revisar-correo"); "task" when none is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:max_chars].rstrip("-") or "task"


def _pieces(text: str) -> Iterator[str]:
    head = text[:MAX_INPUT_CHARS]
    start = 0
    for match in _SEPARATOR.finditer(head):
        yield head[start : match.start()]
        start = match.end()
    # A piece cut by the limit is a fragment ("Sa" of "same"), unless it is the whole message.
    if len(text) <= MAX_INPUT_CHARS or start == 0:
        yield head[start:]


def _clean(piece: str, max_chars: int) -> str:
    name = " ".join(piece.split()).strip(_TRIM)
    name = (name[:1].upper() + name[1:])[:max_chars].rstrip(_TRIM)
    # A piece with no letter or digit ("...", "--") is separator debris, not a task.
    return name if any(c.isalnum() for c in name) else ""


def _unique_slugs(names: list[str]) -> list[str]:
    # Distinct names can share a slug ("Pay-bob", "Pay bob"); later ones get "-2", "-3", ...
    taken: set[str] = set()
    ids: list[str] = []
    for name in names:
        base = slugify(name)
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        ids.append(slug)
    return ids


def _bridged(pairs: list[tuple[str, str]], left_out: set[str]) -> list[tuple[str, str]]:
    """`pairs` without the nodes `left_out`, each one's predecessors linked to its successors."""
    edges = list(pairs)
    for node in left_out:
        before = [a for a, b in edges if b == node]
        after = [b for a, b in edges if a == node]
        edges = [e for e in edges if node not in e] + [(a, b) for a in before for b in after if a != b]
    return list(dict.fromkeys(edges))


def _summary(names: list[str], dropped: int = 0) -> str:
    if not names:
        return "No tasks detected."
    noun = "task" if len(names) == 1 else "tasks"
    over = f" ({dropped} more dropped over the limit of {len(names)})" if dropped else ""
    return f"Detected {len(names)} {noun}{over}: " + " → ".join(names) + "."
