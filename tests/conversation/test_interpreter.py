"""The local interpreter: splitting tables, ids, shape, bounds, and properties over any text."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talkative.conversation.interpreter import (
    MAX_INPUT_CHARS,
    Interpreter,
    LocalInterpreter,
    guess_language,
    interpret,
    slugify,
    split_tasks,
)
from talkative.conversation.schemas import (
    MAX_DROPPED_NAMES,
    MAX_TASK_CHARS,
    MAX_TASKS,
    Interpretation,
    task_key,
)


def names(text: str) -> list[str]:
    return [task.name for task in interpret(text).tasks]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("collect invoices then pay supplier", ["Collect invoices", "Pay supplier"]),
        ("check mail and pay rent", ["Check mail", "Pay rent"]),
        ("check mail and then pay rent", ["Check mail", "Pay rent"]),
        ("check mail, then pay rent", ["Check mail", "Pay rent"]),
        ("Check mail THEN pay rent AND Then file it", ["Check mail", "Pay rent", "File it"]),
        ("revisar correo y luego pagar proveedor", ["Revisar correo", "Pagar proveedor"]),
        ("revisar correo luego pagar proveedor", ["Revisar correo", "Pagar proveedor"]),
        ("revisar correo y pagar proveedor", ["Revisar correo", "Pagar proveedor"]),
        ("Revisar correo Y LUEGO pagar", ["Revisar correo", "Pagar"]),
        ("a -> b → c > d", ["A", "B", "C", "D"]),
        ("fetch data->clean it→load it", ["Fetch data", "Clean it", "Load it"]),
        ("one; two; three", ["One", "Two", "Three"]),
        ("first line\nsecond line\r\nthird line", ["First line", "Second line", "Third line"]),
        ("Send report. Archive it.", ["Send report", "Archive it"]),
        ("Is it paid? Then close it!", ["Is it paid", "Close it"]),
        ("¿Está pagado? luego cerrar", ["Está pagado", "Cerrar"]),
    ],
)
def test_separators_split_in_order(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("triage inbox now", ["Triage inbox now"]),
        ("pay 1,200 to bob", ["Pay 1,200 to bob"]),
        ("charge 3.5 eur then email receipt", ["Charge 3.5 eur", "Email receipt"]),
        ("open example.com and log in", ["Open example.com", "Log in"]),
        ("rock-and-roll playlist", ["Rock-and-roll playlist"]),
        ("brandy sandwich", ["Brandy sandwich"]),  # "and", "y" inside words
        ("read heathen poems", ["Read heathen poems"]),  # "then" inside a word
        ("ask Andy about Yolanda", ["Ask Andy about Yolanda"]),
        ("don't and won't", ["Don't", "Won't"]),
        ("  send   report  ", ["Send report"]),
        ("say 'hi' (politely)", ["Say 'hi' (politely)"]),
    ],
)
def test_text_without_a_separator_stays_whole(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Send report. send report, SEND REPORT", ["Send report"]),
        ("b, a, B, c, A", ["B", "A", "C"]),
        ("pay  bob then PAY BOB", ["Pay bob"]),
        ("Ärger melden, ärger MELDEN", ["Ärger melden"]),
    ],
)
def test_duplicates_collapse_to_the_first(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "then", "and then , ; .", "-> → >", "..."])
def test_nothing_to_do_gives_no_tasks(text: str) -> None:
    result = interpret(text)
    assert (result.tasks, result.links, result.suggestions.nodes) == ([], [], [])
    assert result.language is None
    assert result.summary == "No tasks detected."


def test_task_count_is_capped() -> None:
    text = ", ".join(f"task {i}" for i in range(MAX_TASKS * 3))
    assert names(text) == [f"Task {i}" for i in range(MAX_TASKS)]


def test_duplicates_do_not_use_up_the_cap() -> None:
    text = ", ".join(["same"] * 100 + ["other"])
    assert names(text) == ["Same", "Other"]


def test_task_length_is_capped() -> None:
    (task,) = interpret("x" * 5000 + " then").tasks
    assert task.name == "X" + "x" * (MAX_TASK_CHARS - 1)


def test_only_the_start_of_a_huge_message_is_read() -> None:
    text = "same, " * (MAX_INPUT_CHARS // 6 + 1) + "late task"
    assert len(text) > MAX_INPUT_CHARS
    assert names(text) == ["Same"]
    (whole,) = names("word " * MAX_INPUT_CHARS)  # one long piece is still a (capped) task
    assert whole.startswith("Word word") and len(whole) <= MAX_TASK_CHARS


def test_local_interpreter_limits_are_configurable() -> None:
    interpreter = LocalInterpreter(max_tasks=2, max_task_chars=5)
    assert [t.name for t in interpreter.interpret("alpha, bravo, charlie").tasks] == [
        "Alpha",
        "Bravo",
    ]
    assert [t.name for t in interpreter.interpret("long words here").tasks] == ["Long"]


def test_limits_cannot_be_loosened_past_the_schema() -> None:
    loose = LocalInterpreter(max_tasks=MAX_TASKS * 2, max_task_chars=MAX_TASK_CHARS * 2)
    result = loose.interpret(", ".join(f"{i} " + "x" * 300 for i in range(MAX_TASKS * 2)))
    assert len(result.tasks) == MAX_TASKS
    assert {len(t.name) for t in result.tasks} == {MAX_TASK_CHARS}


def test_local_interpreter_is_an_interpreter() -> None:
    provider: Interpreter = LocalInterpreter()
    text = "collect invoices then pay supplier"
    assert provider.interpret(text) == interpret(text)


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("collect invoices then pay supplier", ["collect-invoices", "pay-supplier"]),
        ("Revisar correo electrónico", ["revisar-correo-electronico"]),
        ("Pay-bob, pay bob", ["pay-bob", "pay-bob-2"]),
        ("pay 1,200 to bob", ["pay-1-200-to-bob"]),
        ("日本 y 中国", ["task", "task-2"]),
    ],
)
def test_ids_are_unique_slugs_of_names(text: str, ids: list[str]) -> None:
    assert [task.id for task in interpret(text).tasks] == ids


def test_slug_is_bounded() -> None:
    slug = slugify("word " * 100)
    assert 0 < len(slug) <= 48
    assert not slug.endswith("-")


def test_full_shape_of_an_interpretation() -> None:
    assert interpret("collect invoices then pay supplier").model_dump() == {
        "tasks": [
            {"id": "collect-invoices", "name": "Collect invoices", "meta": False},
            {"id": "pay-supplier", "name": "Pay supplier", "meta": False},
        ],
        "links": [{"source": "collect-invoices", "target": "pay-supplier"}],
        "suggestions": {
            "nodes": [
                {
                    "id": "collect-invoices",
                    "name": "Collect invoices",
                    "description": "",
                    "status": "pending",
                },
                {"id": "pay-supplier", "name": "Pay supplier", "description": "", "status": "pending"},
            ],
            "edges": [
                {
                    "id": "collect-invoices--pay-supplier",
                    "source": "collect-invoices",
                    "target": "pay-supplier",
                },
            ],
        },
        "language": "en",
        "summary": "Detected 2 tasks: Collect invoices → Pay supplier.",
        "dropped_tasks": [],
        "dropped_count": 0,
    }


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("collect invoices then pay supplier", "en"),
        ("revisar correo y luego pagar proveedor", "es"),
        ("enviar informe mañana", "es"),
        ("triage inbox now", "en"),
        ("zzz", "en"),
    ],
)
def test_language_guess(text: str, language: str) -> None:
    assert guess_language(text) == language
    assert interpret(text).language == language


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("triage inbox", "Detected 1 task: Triage inbox."),
        ("a then b then c", "Detected 3 tasks: A → B → C."),
    ],
)
def test_summary(text: str, summary: str) -> None:
    assert interpret(text).summary == summary


def check_invariants(result: Interpretation) -> None:
    tasks = result.tasks
    assert len(tasks) <= MAX_TASKS
    assert all(0 < len(t.name) <= MAX_TASK_CHARS and t.name == t.name.strip() for t in tasks)
    keys = [task_key(t.name) for t in tasks]
    assert len(set(keys)) == len(keys)
    ids = [t.id for t in tasks]
    assert len(set(ids)) == len(ids)
    consecutive = list(itertools.pairwise(ids))
    assert [(link.source, link.target) for link in result.links] == consecutive
    assert [(n.id, n.name) for n in result.suggestions.nodes] == [(t.id, t.name) for t in tasks]
    assert [(e.source, e.target) for e in result.suggestions.edges] == consecutive
    assert len({e.id for e in result.suggestions.edges}) == len(result.suggestions.edges)


@given(st.text())
def test_any_text_gives_a_valid_interpretation(text: str) -> None:
    check_invariants(interpret(text))


_TOKENS = [
    "then",
    " and ",
    "->",
    "→",
    ">",
    ",",
    ".",
    ";",
    "1,200",
    "3.5",
    " y luego ",
    " y ",
    "Pay",
    "pay",
    "bob",
    " ",
    "\n",
    "x",
    "É",
    "ß",
    "!",
    "?",
]


@given(st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join))
def test_separator_soup_gives_a_valid_interpretation(text: str) -> None:
    check_invariants(interpret(text))


_SEPARATOR_WORDS = {"then", "and", "luego", "y"}
_WORD = st.from_regex(r"[a-z]{2,8}", fullmatch=True).filter(lambda w: w not in _SEPARATOR_WORDS)
_JOINER = st.sampled_from([" then ", " and then ", ", ", "; ", " -> ", " → ", ". ", " y luego "])


@given(st.lists(st.lists(_WORD, min_size=1, max_size=3).map(" ".join), max_size=8), _JOINER)
def test_joined_phrases_come_back_in_order(phrases: list[str], joiner: str) -> None:
    expected: list[str] = []
    for phrase in phrases:
        name = phrase[0].upper() + phrase[1:]
        if name not in expected:
            expected.append(name)
    assert split_tasks(joiner.join(phrases)) == expected


def test_tasks_over_the_limit_are_dropped_and_named() -> None:
    result = interpret(", ".join(f"task {i}" for i in range(1, 41)))
    assert len(result.tasks) == MAX_TASKS
    assert result.dropped_count == 40 - MAX_TASKS
    assert result.dropped_tasks == [f"Task {i}" for i in range(MAX_TASKS + 1, 41)]
    assert result.summary.startswith(f"Detected {MAX_TASKS} tasks (20 more dropped over the limit of 20)")


def test_dropped_names_are_bounded_but_counted_whole() -> None:
    result = interpret(", ".join(f"task {i}" for i in range(1, 201)))
    assert result.dropped_count == 200 - MAX_TASKS
    assert len(result.dropped_tasks) == MAX_DROPPED_NAMES


def test_a_repeated_task_is_not_counted_as_dropped() -> None:
    text = ", ".join([*(f"task {i}" for i in range(1, MAX_TASKS + 1)), "task 1", "task 2"])
    assert interpret(text).dropped_count == 0


@pytest.mark.parametrize(
    ("text", "nodes", "edges"),
    [
        ("run heartbeat now", [], []),
        ("check mail, run heartbeat now, pay bob", ["check-mail", "pay-bob"], [("check-mail", "pay-bob")]),
        ("ejecutar latido y revisar correo", ["revisar-correo"], []),
    ],
)
def test_meta_requests_are_tasks_but_never_suggested_nodes(
    text: str, nodes: list[str], edges: list[tuple[str, str]]
) -> None:
    result = interpret(text)
    assert any(t.meta for t in result.tasks)
    assert [n.id for n in result.suggestions.nodes] == nodes
    assert [(e.source, e.target) for e in result.suggestions.edges] == edges
