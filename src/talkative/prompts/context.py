"""The context builder: the text one run sends to the model, cut to a token budget, deterministically.

Layout, in order: the agent's prompt; `[SKILLS]`; `[RECENT EVENTS]`; `[RECENT ERRORS]` (only when
tools failed); `[USER MESSAGE]`. Empty blocks are left out. The prompt and the message are the
floor and always kept; above it, room goes to errors first, then skills, then the newest events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from talkative.tokens import CHARS_PER_TOKEN, estimate_tokens

# One item's fields are capped so a single huge event or error cannot crowd out all the others.
MAX_FIELD_CHARS = 300
_CLIP_SCAN = 4 * MAX_FIELD_CHARS
CUT_MARKER = "…"

SKILLS_HEADER = "[SKILLS]"
EVENTS_HEADER = "[RECENT EVENTS]"
ERRORS_HEADER = "[RECENT ERRORS]"
MESSAGE_HEADER = "[USER MESSAGE]"
_SEP = "\n\n"

# Names reported in `Context.sections`.
PROMPT, SKILLS, RECENT_EVENTS, RECENT_ERRORS, USER_MESSAGE = (
    "prompt",
    "skills",
    "recent_events",
    "recent_errors",
    "user_message",
)
_HEADERS = {SKILLS: SKILLS_HEADER, RECENT_EVENTS: EVENTS_HEADER, RECENT_ERRORS: ERRORS_HEADER}
_LAYOUT = (SKILLS, RECENT_EVENTS, RECENT_ERRORS)

# Only these exact tokens are substituted; str.format would evaluate "{0}" or "{x.__class__}".
_PLACEHOLDER = re.compile(r"\{(agent_name|tenant_id)\}")
_WHITESPACE = re.compile(r"\s+")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SkillBrief:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class EventBrief:
    type: str
    message: str
    payload: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # The event's context line, when the caller kept it from an earlier run (see `with_line`).
    line: tuple[str, bool] | None = field(default=None, compare=False, repr=False)

    def with_line(self) -> EventBrief:
        """The same event as its rendered line, for a caller that keeps briefs of stored (never
        changing) events: each is rendered once, not on every run. The payload is not kept (the
        line is all the builder reads), so a kept brief is a few strings, not a document."""
        return EventBrief(self.type, self.message, {}, _event_line(self))


@dataclass(frozen=True, slots=True)
class ToolFailure:
    command: str
    error_code: str
    exit_code: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Context:
    text: str
    tokens: int
    truncated: bool
    sections: list[str]


def render_prompt(template: str, *, agent_name: str, tenant_id: str) -> str:
    """Fill `{agent_name}` and `{tenant_id}` in one pass; every other brace is left as written."""
    values = {"agent_name": agent_name, "tenant_id": tenant_id}
    # One pass, so a value that itself contains "{tenant_id}" is not expanded again.
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def build_context(
    *,
    prompt: str,
    agent_name: str,
    tenant_id: str,
    message: str,
    skills: Sequence[SkillBrief] = (),
    recent_events: Sequence[EventBrief] = (),
    tool_failures: Sequence[ToolFailure] = (),
    token_budget: int,
) -> Context:
    """The context for one run; `tokens <= token_budget` whenever the budget holds the floor
    (the prompt, the message header and a one-character cut message)."""
    limit = max(token_budget, 0) * CHARS_PER_TOKEN
    head = render_prompt(prompt, agent_name=agent_name, tenant_id=tenant_id)
    fixed = (len(head) + len(_SEP) if head else 0) + len(MESSAGE_HEADER) + 1
    body = message
    if fixed + len(body) > limit:
        body = message[: max(limit - fixed - len(CUT_MARKER), 0)] + CUT_MARKER
    room = limit - fixed - len(body)
    truncated = body != message

    skill_lines, cut_skills = _lines(skills, _skill_line)
    event_lines, cut_events = _lines(recent_events, _event_line)
    error_lines, cut_errors = _lines(tool_failures, _error_line)
    truncated |= cut_skills or cut_events or cut_errors

    # Priority order: errors, then skills, then events; errors and events keep their newest lines.
    kept: dict[str, list[str]] = {}
    for name, lines, newest in (
        (RECENT_ERRORS, error_lines, True),
        (SKILLS, skill_lines, False),
        (RECENT_EVENTS, event_lines, True),
    ):
        kept[name], cost = _fit(lines, _HEADERS[name], room, keep_newest=newest)
        room -= cost
        truncated |= len(kept[name]) < len(lines)

    blocks = [(PROMPT, head)] if head else []
    blocks += [(name, _block(_HEADERS[name], kept[name])) for name in _LAYOUT if kept[name]]
    blocks.append((USER_MESSAGE, f"{MESSAGE_HEADER}\n{body}"))
    text = _SEP.join(block for _, block in blocks)
    return Context(text, estimate_tokens(text), truncated, [name for name, _ in blocks])


def _block(header: str, lines: list[str]) -> str:
    return "\n".join([header, *lines])


def _fit(lines: list[str], header: str, room: int, *, keep_newest: bool) -> tuple[list[str], int]:
    """The longest run of lines (from the newest end or the start) that fits, and its cost."""
    cost = len(_SEP) + len(header)
    chosen: list[str] = []
    for line in reversed(lines) if keep_newest else lines:
        if cost + 1 + len(line) > room:
            break
        chosen.append(line)
        cost += 1 + len(line)
    if not chosen:
        return [], 0
    return (chosen[::-1] if keep_newest else chosen), cost


def _lines(items: Sequence[_T], render: Callable[[_T], tuple[str, bool]]) -> tuple[list[str], bool]:
    rendered = [render(item) for item in items]
    return [line for line, _ in rendered], any(cut for _, cut in rendered)


def _clip(text: str) -> tuple[str, bool]:
    # Whitespace is collapsed so every item stays on one line of its block.
    if len(text) > _CLIP_SCAN:
        # A long payload is cut anyway: when its head alone flattens to more than the cap (one
        # more for a trailing space the whole text's strip could drop), the cut is the same.
        head = _WHITESPACE.sub(" ", text[:_CLIP_SCAN]).lstrip()
        if len(head) > MAX_FIELD_CHARS + 1:
            return head[: MAX_FIELD_CHARS - len(CUT_MARKER)] + CUT_MARKER, True
    flat = _WHITESPACE.sub(" ", text).strip()
    if len(flat) <= MAX_FIELD_CHARS:
        return flat, False
    return flat[: MAX_FIELD_CHARS - len(CUT_MARKER)] + CUT_MARKER, True


def _compact_json(payload: Mapping[str, Any]) -> str:
    try:
        return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        # Mixed key types or cycles: a context is still built, the payload just reads as repr.
        return repr(dict(payload))


def _skill_line(skill: SkillBrief) -> tuple[str, bool]:
    name, cut_name = _clip(skill.name)
    description, cut_description = _clip(skill.description)
    return f"- {name}: {description}", cut_name or cut_description


def _event_line(event: EventBrief) -> tuple[str, bool]:
    if event.line is not None:
        return event.line
    kind, cut_kind = _clip(event.type)
    message, cut_message = _clip(event.message)
    payload, cut_payload = _clip(_compact_json(event.payload)) if event.payload else ("", False)
    return " ".join(p for p in (kind, message, payload) if p), cut_kind or cut_message or cut_payload


def _error_line(failure: ToolFailure) -> tuple[str, bool]:
    command, cut_command = _clip(failure.command)
    code, cut_code = _clip(failure.error_code)
    reason, cut_reason = _clip(failure.reason)
    exit_code = "none" if failure.exit_code is None else str(failure.exit_code)
    return f"- {command} | {code} | exit {exit_code} | {reason}", cut_command or cut_code or cut_reason
