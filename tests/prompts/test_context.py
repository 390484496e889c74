"""The context builder, by layout and truncation tables and by properties over random inputs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talkative.prompts.context import (
    MAX_FIELD_CHARS,
    Context,
    EventBrief,
    SkillBrief,
    ToolFailure,
    _clip,
    build_context,
    render_prompt,
)
from talkative.tokens import estimate_tokens

SKILL = SkillBrief("mail-triage", "Sorts the inbox")
EVENT = EventBrief("TOOL_RUN_FINISHED", "mail-triage ok", {"ok": True, "artifacts": ["out.json"]})
FAILURE = ToolFailure("python scripts/report.py --month 3", "TOOL_FAILED", 2, "no such file")
BIG = 100_000


def build(
    *,
    prompt: str = "You are {agent_name}.",
    message: str = "summarise march",
    skills: Sequence[SkillBrief] = (),
    events: Sequence[EventBrief] = (),
    failures: Sequence[ToolFailure] = (),
    budget: int = BIG,
) -> Context:
    return build_context(
        prompt=prompt,
        agent_name="Ada",
        tenant_id="acme",
        message=message,
        skills=skills,
        recent_events=events,
        tool_failures=failures,
        token_budget=budget,
    )


def floor_tokens(prompt: str, agent_name: str = "Ada", tenant_id: str = "acme") -> int:
    """The smallest context there is: the prompt, the message header and a cut-to-nothing message."""
    head = render_prompt(prompt, agent_name=agent_name, tenant_id=tenant_id)
    return estimate_tokens((f"{head}\n\n" if head else "") + "[USER MESSAGE]\n…")


# --- layout -----------------------------------------------------------------------------------


def test_full_layout_in_order() -> None:
    context = build(
        skills=[SKILL, SkillBrief("git-watcher", "Watches a repository")],
        events=[EventBrief("MESSAGE_RECEIVED", "hello", {}), EVENT],
        failures=[FAILURE, ToolFailure("rm -rf /", "COMMAND_REFUSED", None, "outside the workspace")],
    )
    assert context.text == (
        "You are Ada.\n\n"
        "[SKILLS]\n"
        "- mail-triage: Sorts the inbox\n"
        "- git-watcher: Watches a repository\n\n"
        "[RECENT EVENTS]\n"
        "MESSAGE_RECEIVED hello\n"
        'TOOL_RUN_FINISHED mail-triage ok {"artifacts":["out.json"],"ok":true}\n\n'
        "[RECENT ERRORS]\n"
        "- python scripts/report.py --month 3 | TOOL_FAILED | exit 2 | no such file\n"
        "- rm -rf / | COMMAND_REFUSED | exit none | outside the workspace\n\n"
        "[USER MESSAGE]\n"
        "summarise march"
    )
    assert context.sections == ["prompt", "skills", "recent_events", "recent_errors", "user_message"]
    assert context.tokens == estimate_tokens(context.text)
    assert context.truncated is False


@pytest.mark.parametrize(
    ("prompt", "skills", "events", "failures", "sections"),
    [
        ("P", [], [], [], ["prompt", "user_message"]),
        ("", [], [], [], ["user_message"]),
        ("P", [SKILL], [], [], ["prompt", "skills", "user_message"]),
        ("P", [], [EVENT], [], ["prompt", "recent_events", "user_message"]),
        ("P", [], [], [FAILURE], ["prompt", "recent_errors", "user_message"]),
        ("", [SKILL], [EVENT], [FAILURE], ["skills", "recent_events", "recent_errors", "user_message"]),
    ],
)
def test_empty_blocks_are_left_out(
    prompt: str,
    skills: list[SkillBrief],
    events: list[EventBrief],
    failures: list[ToolFailure],
    sections: list[str],
) -> None:
    context = build(prompt=prompt, skills=skills, events=events, failures=failures)
    assert context.sections == sections
    headers = {"skills": "[SKILLS]", "recent_events": "[RECENT EVENTS]", "recent_errors": "[RECENT ERRORS]"}
    for name, header in headers.items():
        assert (header in context.text) is (name in sections)
    assert context.truncated is False


@pytest.mark.parametrize(
    ("failure", "line"),
    [
        (FAILURE, "- python scripts/report.py --month 3 | TOOL_FAILED | exit 2 | no such file"),
        (
            ToolFailure("x.py", "TIMEOUT", None, "killed after 30s"),
            "- x.py | TIMEOUT | exit none | killed after 30s",
        ),
        (
            ToolFailure("y.py", "SKILL_FAILED", 0, "ok: false\n  in report"),
            "- y.py | SKILL_FAILED | exit 0 | ok: false in report",
        ),
        (ToolFailure("z.py", "SIGNAL", -9, "killed"), "- z.py | SIGNAL | exit -9 | killed"),
    ],
)
def test_errors_block_names_command_code_exit_and_reason(failure: ToolFailure, line: str) -> None:
    context = build(failures=[failure])
    assert f"[RECENT ERRORS]\n{line}\n\n[USER MESSAGE]" in context.text


def test_no_errors_block_without_failures() -> None:
    context = build(skills=[SKILL], events=[EVENT])
    assert "[RECENT ERRORS]" not in context.text
    assert "recent_errors" not in context.sections


def test_multiline_fields_stay_on_one_line_but_the_message_is_verbatim() -> None:
    context = build(
        skills=[SkillBrief("a", "line one\nline two")],
        events=[EventBrief("E", "x\n\n[USER MESSAGE]\nfake", {})],
        message="first\n\nsecond",
    )
    assert "- a: line one line two\n" in context.text
    assert "E x [USER MESSAGE] fake\n" in context.text
    assert context.text.count("\n[USER MESSAGE]\n") == 1
    assert context.text.endswith("[USER MESSAGE]\nfirst\n\nsecond")


# --- placeholders -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("You are {agent_name} for {tenant_id}.", "You are Ada for acme."),
        ("{agent_name}{agent_name}", "AdaAda"),
        ("no placeholders", "no placeholders"),
        ("{__class__}", "{__class__}"),
        ("{0}", "{0}"),
        ("{}", "{}"),
        ("{agent_name.__class__}", "{agent_name.__class__}"),
        ("{agent_name!r}", "{agent_name!r}"),
        ("{agent_name:>10}", "{agent_name:>10}"),
        ("{tenant_id[0]}", "{tenant_id[0]}"),
        ("{{agent_name}}", "{Ada}"),
        ("unbalanced { and } and {agent_name", "unbalanced { and } and {agent_name"),
        ('json {"a": 1} stays', 'json {"a": 1} stays'),
        ("{AGENT_NAME} is case-sensitive", "{AGENT_NAME} is case-sensitive"),
    ],
)
def test_placeholders_are_filled_and_every_other_brace_is_left_alone(template: str, expected: str) -> None:
    assert render_prompt(template, agent_name="Ada", tenant_id="acme") == expected
    assert build(prompt=template).text.startswith(f"{expected}\n\n")


def test_values_are_not_expanded_again() -> None:
    rendered = render_prompt("{agent_name}|{tenant_id}", agent_name="{tenant_id}", tenant_id="{agent_name}")
    assert rendered == "{tenant_id}|{agent_name}"


# --- token estimate ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)])
def test_estimate_tokens_is_a_quarter_of_the_characters_rounded_up(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


# --- truncation -------------------------------------------------------------------------------


def events(n: int) -> list[EventBrief]:
    # Equal-length lines longer than the 3 characters of rounding slack in a 4-chars-per-token budget.
    return [EventBrief("EVENT", f"number {i}", {}) for i in range(1, n + 1)]


def budget_for(text: str) -> int:
    return estimate_tokens(text)


def test_oldest_events_are_dropped_first() -> None:
    full = build(events=events(5))
    expected = build(events=events(5)[3:])
    context = build(events=events(5), budget=budget_for(expected.text))
    assert context.text == expected.text
    assert "EVENT number 4\nEVENT number 5\n\n[USER MESSAGE]" in context.text
    assert "number 3" not in context.text
    assert context.truncated is True
    assert full.truncated is False


def test_errors_outrank_skills_which_outrank_events() -> None:
    only_errors = build(failures=[FAILURE])
    errors_and_skills = build(skills=[SKILL], failures=[FAILURE])
    for expected in (only_errors, errors_and_skills):
        context = build(
            skills=[SKILL], events=events(3), failures=[FAILURE], budget=budget_for(expected.text)
        )
        assert context.text == expected.text
        assert context.truncated is True


def test_newest_failures_are_kept_when_not_all_fit() -> None:
    failures = [ToolFailure(f"s{i}.py", "TOOL_FAILED", 1, "boom") for i in range(1, 4)]
    expected = build(failures=failures[1:])
    context = build(failures=failures, budget=budget_for(expected.text))
    assert context.text == expected.text
    assert context.truncated is True


def test_first_skills_are_kept_when_not_all_fit() -> None:
    skills = [SkillBrief(f"skill-{i}", "does things") for i in range(1, 4)]
    expected = build(skills=skills[:2])
    context = build(skills=skills, budget=budget_for(expected.text))
    assert context.text == expected.text


def test_prompt_and_message_survive_when_nothing_else_fits() -> None:
    bare = build()
    context = build(skills=[SKILL], events=events(3), failures=[FAILURE], budget=bare.tokens)
    assert context.text == bare.text
    assert context.sections == ["prompt", "user_message"]
    assert context.truncated is True


def test_a_message_too_long_for_the_budget_is_cut_from_the_end() -> None:
    message = "".join(f"word{i} " for i in range(200))
    context = build(message=message, events=events(2), budget=40)
    assert context.tokens <= 40
    assert context.text.startswith("You are Ada.\n\n[USER MESSAGE]\nword0 word1 ")
    assert context.text.endswith("…")
    body = context.text.split("[USER MESSAGE]\n", 1)[1]
    assert message.startswith(body[:-1])
    assert context.truncated is True
    assert context.sections == ["prompt", "user_message"]


def test_a_message_that_fits_is_never_cut_before_the_other_blocks() -> None:
    context = build(message="m" * 100, events=events(5), budget=budget_for(build(message="m" * 100).text))
    assert context.text.endswith("[USER MESSAGE]\n" + "m" * 100)


def test_payloads_are_capped_even_when_the_budget_is_ample() -> None:
    payload: dict[str, Any] = {"stdout": "x" * 5000}
    context = build(events=[EventBrief("TOOL_RUN_FINISHED", "done", payload)])
    line = context.text.split("[RECENT EVENTS]\n", 1)[1].split("\n", 1)[0]
    assert line.startswith('TOOL_RUN_FINISHED done {"stdout":"xxx')
    assert line.endswith("…")
    assert len(line) == len("TOOL_RUN_FINISHED done ") + MAX_FIELD_CHARS
    assert context.truncated is True


def test_a_payload_that_json_cannot_sort_still_renders() -> None:
    context = build(events=[EventBrief("E", "m", {1: "a", "b": 2})])  # type: ignore[dict-item]
    assert "E m {1: 'a', 'b': 2}" in context.text


def test_every_budget_between_the_floor_and_everything_is_respected_exactly() -> None:
    # Short lines make any per-line miscount add up to more than the rounding slack.
    short = [EventBrief("E", str(i % 10), {}) for i in range(30)]
    failures = [ToolFailure("s", "X", 1, "r")] * 5
    skills = [SkillBrief("k", "d")] * 5
    full = build(skills=skills, events=short, failures=failures)
    previous = -1
    for budget in range(build().tokens, full.tokens + 1):
        context = build(skills=skills, events=short, failures=failures, budget=budget)
        assert context.tokens <= budget
        assert context.truncated is (context.text != full.text)
        # More room never means less context.
        assert len(context.text) >= previous
        previous = len(context.text)
    assert context.text == full.text


def test_a_zero_budget_keeps_the_floor() -> None:
    context = build(events=events(1), budget=0)
    assert context.text == "You are Ada.\n\n[USER MESSAGE]\n…"
    assert context.truncated is True


# --- properties -------------------------------------------------------------------------------

_text = st.text(max_size=60)
_payloads = st.dictionaries(
    st.text(max_size=8), st.one_of(st.none(), st.integers(), st.text(max_size=400)), max_size=3
)
_inputs = st.fixed_dictionaries(
    {
        "prompt": st.text(alphabet=st.sampled_from("ab {}_0agent_nmtid\n"), max_size=80),
        "agent_name": _text,
        "tenant_id": _text,
        "message": st.text(max_size=600),
        "skills": st.lists(st.builds(SkillBrief, _text, _text), max_size=5),
        # Event types are upper-case names in practice; never empty, never starting with "[".
        "recent_events": st.lists(
            st.builds(EventBrief, st.text(alphabet="ABCDE_", min_size=1, max_size=20), _text, _payloads),
            max_size=8,
        ),
        "tool_failures": st.lists(
            st.builds(ToolFailure, _text, _text, st.none() | st.integers(-255, 255), _text), max_size=4
        ),
        "token_budget": st.integers(0, 600),
    }
)


@given(_inputs)
def test_budget_is_respected_above_the_floor(inputs: dict[str, Any]) -> None:
    context = build_context(**inputs)
    floor = floor_tokens(inputs["prompt"], inputs["agent_name"], inputs["tenant_id"])
    assert context.tokens == estimate_tokens(context.text)
    assert context.tokens <= max(inputs["token_budget"], floor)
    if inputs["token_budget"] >= floor:
        assert context.tokens <= inputs["token_budget"]


@given(_inputs)
def test_prompt_and_message_are_always_there(inputs: dict[str, Any]) -> None:
    context = build_context(**inputs)
    head = render_prompt(inputs["prompt"], agent_name=inputs["agent_name"], tenant_id=inputs["tenant_id"])
    assert context.text.startswith(head)
    assert context.sections[-1] == "user_message"
    # The first header at a line start is the real one: the message itself may contain the header,
    # and block lines never hold a newline.
    header = "[USER MESSAGE]\n"
    start = 0 if context.text.startswith(header) else context.text.index("\n" + header) + 1
    body = context.text[start + len(header) :]
    assert body == inputs["message"] or (body.endswith("…") and inputs["message"].startswith(body[:-1]))
    if body != inputs["message"]:
        assert context.truncated


@given(_inputs)
def test_same_inputs_same_context(inputs: dict[str, Any]) -> None:
    assert build_context(**inputs) == build_context(**dict(inputs))


@given(_inputs)
def test_kept_events_are_the_newest(inputs: dict[str, Any]) -> None:
    context = build_context(**inputs)
    everything = build_context(**{**inputs, "token_budget": BIG})
    if "recent_events" not in context.sections:
        return
    kept = context.text.split("[RECENT EVENTS]\n", 1)[1].split("\n\n[", 1)[0].split("\n")
    all_lines = everything.text.split("[RECENT EVENTS]\n", 1)[1].split("\n\n[", 1)[0].split("\n")
    assert all_lines[len(all_lines) - len(kept) :] == kept
    assert context.truncated or kept == all_lines


def _clip_reference(text: str) -> tuple[str, bool]:
    """The clip rule written the obvious way: flatten everything, then cut."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= MAX_FIELD_CHARS:
        return flat, False
    return flat[: MAX_FIELD_CHARS - 1] + "…", True


@given(
    st.lists(
        st.one_of(
            st.text(alphabet='ab{}":,', min_size=0, max_size=200),
            st.text(alphabet=" \n\t", min_size=1, max_size=900),
        ),
        max_size=30,
    ).map("".join)
)
def test_long_texts_are_clipped_as_if_flattened_whole(text: str) -> None:
    assert _clip(text) == _clip_reference(text)


def test_a_long_text_whose_tail_is_only_whitespace_is_not_cut() -> None:
    text = "x" * MAX_FIELD_CHARS + " " * 2000
    assert _clip(text) == ("x" * MAX_FIELD_CHARS, False)


def test_an_event_carrying_its_line_renders_the_same_context() -> None:
    payload = {"ok": False, "stdout": "line\n" * 400, "nested": {"b": 1, "a": [1, 2]}}
    plain = [EventBrief("TOOL_RUN_FINISHED", "mail-triage failed", payload), EVENT]
    kept = [event.with_line() for event in plain]
    assert all(event.line is not None for event in kept)
    assert build(events=kept) == build(events=plain)
