"""Workflow graphs and patches: validation, build, apply, summary and layout, by tables and
properties over random graphs."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from talkative.conversation.interpreter import interpret
from talkative.conversation.schemas import task_key
from talkative.workflows.graph import (
    MAX_ID_CHARS,
    Edge,
    GraphError,
    Node,
    Position,
    WorkflowGraph,
    auto_layout,
    validate_graph,
)
from talkative.workflows.patch import (
    PatchError,
    WorkflowPatch,
    apply_patch,
    build_patch,
    summarize_patch,
)


def graph(nodes: list[tuple[str, str]], edges: list[tuple[str, str, str]] | None = None) -> WorkflowGraph:
    return WorkflowGraph(
        nodes=[Node(id=i, name=n) for i, n in nodes],
        edges=[Edge(id=i, source=s, target=t) for i, s, t in edges or []],
    )


def ops(patch: WorkflowPatch) -> list[dict[str, Any]]:
    # Defaults are left out to keep expectations short; `op` is a default but the point of each.
    return [{"op": op.op, **op.model_dump(exclude_defaults=True)} for op in patch.operations]


ABC = graph([("a", "A"), ("b", "B"), ("c", "C")], [("ab", "a", "b")])


# --- graph validation -------------------------------------------------------------------------

_NODE = {"id": "a", "name": "A"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nodes": [_NODE, _NODE]}, "duplicate node id 'a'"),
        ({"nodes": [_NODE], "edges": [{"id": "e", "source": "a", "target": "z"}]}, "missing node 'z'"),
        (
            {
                "nodes": [_NODE, {"id": "b", "name": "B"}],
                "edges": [
                    {"id": "e1", "source": "a", "target": "b"},
                    {"id": "e2", "source": "a", "target": "b"},
                ],
            },
            "duplicates 'a' -> 'b'",
        ),
        (
            {
                "nodes": [_NODE, {"id": "b", "name": "B"}],
                "edges": [
                    {"id": "e", "source": "a", "target": "b"},
                    {"id": "e", "source": "b", "target": "a"},
                ],
            },
            "duplicate edge id 'e'",
        ),
        ({"nodes": [{"id": "", "name": "A"}]}, "nodes.0.id"),
        ({"nodes": [{"id": "a b", "name": "A"}]}, "nodes.0.id"),
        ({"nodes": [{"id": "x" * (MAX_ID_CHARS + 1), "name": "A"}]}, "nodes.0.id"),
        ({"nodes": [{"id": "a", "name": "   "}]}, "nodes.0.name"),
        ({"nodes": [{"id": "a", "name": "n" * 201}]}, "nodes.0.name"),
        ({"nodes": [{"id": "a", "name": "A", "status": "blocked"}]}, "nodes.0.status"),
        (
            {"nodes": [{"id": "a", "name": "A", "position": {"x": float("inf"), "y": 0}}]},
            "nodes.0.position.x",
        ),
        ({"nodes": [{"id": "a", "name": "A", "metrics": {"cost": -1}}]}, "nodes.0.metrics.cost"),
    ],
)
def test_invalid_graphs_are_rejected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(GraphError, match="invalid workflow graph") as caught:
        validate_graph(data)
    assert message in caught.value.message
    assert (caught.value.status, caught.value.code) == (422, "INVALID_WORKFLOW")


def test_valid_graph_round_trips_with_legacy_fields() -> None:
    data = {
        "nodes": [
            {
                "id": "a",
                "name": " A ",
                "description": "d",
                "inputs": ["x"],
                "outputs": [],
                "status": "done",
                "position": {"x": 1, "y": 2},
                "assignedPerson": "ana",
                "metrics": {"timeSpent": 3, "cost": 0.5, "notes": "ok"},
            },
            {"id": "b", "name": "B"},
        ],
        "edges": [{"id": "e", "source": "a", "target": "b"}],
    }
    result = validate_graph(data).model_dump()
    assert result["nodes"][0]["name"] == "A"
    assert result["nodes"][0]["metrics"] == {"timeSpent": 3.0, "cost": 0.5, "notes": "ok"}
    assert result["nodes"][1]["status"] == "pending"
    assert result["edges"] == data["edges"]


def test_validate_graph_rechecks_a_mutated_instance() -> None:
    mutated = ABC.model_copy(deep=True)
    mutated.edges.append(Edge(id="bz", source="b", target="zz"))
    with pytest.raises(GraphError, match="missing node 'zz'"):
        validate_graph(mutated)


# --- patch parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "rename_node", "id": "a"},
        {"id": "a"},
        {"op": "update_node", "id": "a", "updates": {"id": "b"}},
        {"op": "update_node", "id": "a", "updates": {"name": None}},
        {"op": "update_node", "id": "a", "updates": {"name": ""}},
        {"op": "update_node", "id": "a", "updates": {"colour": "red"}},
        {"op": "add_node", "node": {"id": "d", "name": ""}},
        {"op": "add_edge", "edge": {"id": "e", "source": "a"}},
        {"op": "remove_edge"},
    ],
)
def test_malformed_operations_fail_validation(operation: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        WorkflowPatch.model_validate({"operations": [operation]})


def test_negative_base_version_fails_validation() -> None:
    with pytest.raises(ValidationError):
        WorkflowPatch.model_validate({"baseVersion": -1, "operations": []})


# --- apply_patch --------------------------------------------------------------------------------


def apply(graph_: WorkflowGraph, *operations: dict[str, Any]) -> WorkflowGraph:
    return apply_patch(graph_, WorkflowPatch.model_validate({"operations": list(operations)}))


def shape(graph_: WorkflowGraph) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    return [(n.id, n.name) for n in graph_.nodes], [(e.id, e.source, e.target) for e in graph_.edges]


@pytest.mark.parametrize(
    ("operations", "nodes", "edges"),
    [
        (
            [{"op": "add_node", "node": {"id": "d", "name": "D"}}],
            [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")],
            [("ab", "a", "b")],
        ),
        (
            [{"op": "update_node", "id": "b", "updates": {"name": "Bee"}}],
            [("a", "A"), ("b", "Bee"), ("c", "C")],
            [("ab", "a", "b")],
        ),
        ([{"op": "remove_node", "id": "a"}], [("b", "B"), ("c", "C")], []),
        ([{"op": "remove_node", "id": "b"}], [("a", "A"), ("c", "C")], []),
        (
            [{"op": "add_edge", "edge": {"id": "bc", "source": "b", "target": "c"}}],
            [("a", "A"), ("b", "B"), ("c", "C")],
            [("ab", "a", "b"), ("bc", "b", "c")],
        ),
        (
            [{"op": "add_edge", "edge": {"id": "ba", "source": "b", "target": "a"}}],
            [("a", "A"), ("b", "B"), ("c", "C")],
            [("ab", "a", "b"), ("ba", "b", "a")],
        ),
        ([{"op": "remove_edge", "id": "ab"}], [("a", "A"), ("b", "B"), ("c", "C")], []),
        (
            [
                {"op": "remove_edge", "id": "ab"},
                {"op": "add_edge", "edge": {"id": "ab", "source": "c", "target": "a"}},
            ],
            [("a", "A"), ("b", "B"), ("c", "C")],
            [("ab", "c", "a")],
        ),
        (
            [{"op": "remove_node", "id": "c"}, {"op": "add_node", "node": {"id": "c", "name": "C2"}}],
            [("a", "A"), ("b", "B"), ("c", "C2")],
            [("ab", "a", "b")],
        ),
        ([], [("a", "A"), ("b", "B"), ("c", "C")], [("ab", "a", "b")]),
    ],
)
def test_operations_apply_in_order(
    operations: list[dict[str, Any]], nodes: list[tuple[str, str]], edges: list[tuple[str, str, str]]
) -> None:
    before = ABC.model_dump()
    assert shape(apply(ABC, *operations)) == (nodes, edges)
    assert ABC.model_dump() == before


def test_update_changes_only_the_given_fields() -> None:
    start = apply(
        ABC,
        {
            "op": "update_node",
            "id": "a",
            "updates": {"description": "first", "assignedPerson": "ana", "position": {"x": 1, "y": 2}},
        },
    )
    node = apply(
        start, {"op": "update_node", "id": "a", "updates": {"status": "active", "assignedPerson": None}}
    ).nodes[0]
    assert (node.name, node.description, node.status) == ("A", "first", "active")
    assert (node.assignedPerson, node.position) == (None, Position(x=1, y=2))


def test_result_shares_nothing_with_the_input() -> None:
    result = apply(ABC, {"op": "update_node", "id": "a", "updates": {"inputs": ["x"]}})
    result.nodes[1].inputs.append("leak")
    result.edges[0].target = "c"
    assert ABC.nodes[1].inputs == []
    assert ABC.edges[0].target == "b"


_ADD_D = {"op": "add_node", "node": {"id": "d", "name": "D"}}


@pytest.mark.parametrize(
    ("operations", "index", "message"),
    [
        ([{"op": "add_node", "node": {"id": "a", "name": "Again"}}], 0, "node id 'a' already exists"),
        ([{"op": "update_node", "id": "zz", "updates": {"name": "Z"}}], 0, "unknown node 'zz'"),
        ([{"op": "remove_node", "id": "zz"}], 0, "unknown node 'zz'"),
        (
            [{"op": "add_edge", "edge": {"id": "ab", "source": "b", "target": "c"}}],
            0,
            "edge id 'ab' already exists",
        ),
        (
            [{"op": "add_edge", "edge": {"id": "x", "source": "zz", "target": "c"}}],
            0,
            "edge 'x' references unknown node 'zz'",
        ),
        (
            [{"op": "add_edge", "edge": {"id": "x", "source": "a", "target": "zz"}}],
            0,
            "edge 'x' references unknown node 'zz'",
        ),
        (
            [{"op": "add_edge", "edge": {"id": "x", "source": "a", "target": "b"}}],
            0,
            "an edge 'a' -> 'b' already exists",
        ),
        ([{"op": "remove_edge", "id": "zz"}], 0, "unknown edge 'zz'"),
        ([_ADD_D, _ADD_D], 1, "node id 'd' already exists"),
        (
            [
                {"op": "remove_node", "id": "b"},
                {"op": "add_edge", "edge": {"id": "bc", "source": "b", "target": "c"}},
            ],
            1,
            "edge 'bc' references unknown node 'b'",
        ),
        ([{"op": "remove_node", "id": "a"}, {"op": "remove_edge", "id": "ab"}], 1, "unknown edge 'ab'"),
    ],
)
def test_invalid_operations_raise_patch_error(
    operations: list[dict[str, Any]], index: int, message: str
) -> None:
    before = ABC.model_dump()
    with pytest.raises(PatchError) as caught:
        apply(ABC, *operations)
    kind = operations[index]["op"]
    assert caught.value.message == f"operation {index} ({kind}): {message}"
    assert (caught.value.index, caught.value.status, caught.value.code) == (
        index,
        422,
        "INVALID_PATCH",
    )
    assert ABC.model_dump() == before


# --- build_patch --------------------------------------------------------------------------------

_COLLECT_PAY = interpret("collect invoices then pay supplier")


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (
            graph([]),
            [
                {"op": "add_node", "node": {"id": "collect-invoices", "name": "Collect invoices"}},
                {"op": "add_node", "node": {"id": "pay-supplier", "name": "Pay supplier"}},
                {
                    "op": "add_edge",
                    "edge": {
                        "id": "collect-invoices--pay-supplier",
                        "source": "collect-invoices",
                        "target": "pay-supplier",
                    },
                },
            ],
        ),
        (
            graph([("n1", "collect  INVOICES")]),
            [
                {"op": "add_node", "node": {"id": "pay-supplier", "name": "Pay supplier"}},
                {
                    "op": "add_edge",
                    "edge": {"id": "n1--pay-supplier", "source": "n1", "target": "pay-supplier"},
                },
            ],
        ),
        (
            graph([("collect-invoices", "Something else")]),
            [
                {"op": "add_node", "node": {"id": "collect-invoices-2", "name": "Collect invoices"}},
                {"op": "add_node", "node": {"id": "pay-supplier", "name": "Pay supplier"}},
                {
                    "op": "add_edge",
                    "edge": {
                        "id": "collect-invoices-2--pay-supplier",
                        "source": "collect-invoices-2",
                        "target": "pay-supplier",
                    },
                },
            ],
        ),
        (
            graph(
                [("p", "Pay supplier"), ("c", "Collect invoices"), ("c2", "collect invoices")],
                [("p--c", "p", "c")],
            ),
            [
                {"op": "add_edge", "edge": {"id": "c--p", "source": "c", "target": "p"}},
            ],
        ),
        (graph([("c", "Collect invoices"), ("p", "Pay supplier")], [("c--p", "c", "p")]), []),
        (graph([("c", "Collect invoices"), ("p", "Pay supplier")], [("x", "c", "p")]), []),
    ],
)
def test_build_patch_adds_only_what_is_missing(
    existing: WorkflowGraph, expected: list[dict[str, Any]]
) -> None:
    assert ops(build_patch(existing, _COLLECT_PAY)) == expected


def test_build_patch_accepts_plain_data_and_suggestions() -> None:
    existing = graph([("n1", "Pay supplier")])
    from_model = build_patch(existing, _COLLECT_PAY, base_version=4)
    assert build_patch(existing, _COLLECT_PAY.model_dump(), base_version=4) == from_model
    assert build_patch(existing, _COLLECT_PAY.suggestions, base_version=4) == from_model
    assert from_model.baseVersion == 4
    assert summarize_patch(from_model) == "1 node added, 1 edge added"


def test_build_patch_tolerates_loose_provider_output() -> None:
    existing = graph([("n1", "Old task")])
    suggestions = {
        "nodes": [
            {"id": "new task", "name": "New"},
            {"id": "dup", "name": "NEW"},
            {"id": "x" * 128, "name": "Long"},
        ],
        "edges": [
            {"id": "e1", "source": "n1", "target": "new task"},
            {"id": "e2", "source": "new task", "target": "dup"},
            {"id": "e3", "source": "ghost", "target": "n1"},
        ],
    }
    patch = build_patch(existing, {"suggestions": suggestions})
    assert ops(patch)[:2] == [
        {"op": "add_node", "node": {"id": "new-task", "name": "New"}},
        {"op": "add_node", "node": {"id": "x" * 128, "name": "Long"}},
    ]
    # "dup" is the same task as "new task" (a self-loop), "ghost" is unknown: both skipped.
    assert ops(patch)[2:] == [
        {"op": "add_edge", "edge": {"id": "n1--new-task", "source": "n1", "target": "new-task"}}
    ]
    assert all(len(e.id) <= MAX_ID_CHARS for e in apply_patch(existing, patch).edges)


@pytest.mark.parametrize(
    ("interpretation", "message"),
    [
        ({"tasks": []}, "interpretation has no 'suggestions'"),
        ({"suggestions": {"nodes": [{"id": "a"}]}}, "invalid suggestions: nodes.0.name"),
    ],
)
def test_build_patch_rejects_unusable_interpretations(interpretation: dict[str, Any], message: str) -> None:
    with pytest.raises(PatchError, match=message):
        build_patch(ABC, interpretation)


@pytest.mark.parametrize(
    ("operations", "summary"),
    [
        ([], "no changes"),
        ([{"op": "add_node", "node": {"id": "d", "name": "D"}}], "1 node added"),
        (
            [
                {"op": "add_edge", "edge": {"id": "x", "source": "a", "target": "c"}},
                {"op": "remove_node", "id": "b"},
                {"op": "add_node", "node": {"id": "d", "name": "D"}},
                {"op": "add_node", "node": {"id": "e", "name": "E"}},
                {"op": "remove_edge", "id": "x"},
                {"op": "update_node", "id": "a", "updates": {"status": "done"}},
            ],
            "2 nodes added, 1 node updated, 1 node removed, 1 edge added, 1 edge removed",
        ),
    ],
)
def test_summarize_patch(operations: list[dict[str, Any]], summary: str) -> None:
    assert summarize_patch(WorkflowPatch.model_validate({"operations": operations})) == summary


# --- properties over random graphs ---------------------------------------------------------------

_NAMES = ["Collect invoices", "collect INVOICES", "Pay supplier", "Archive", "Email team", "Review"]
_IDS = ["collect-invoices", "pay-supplier", "archive", "email-team", "n1", "n2", "task"]
_EDGE_IDS = ["collect-invoices--pay-supplier", "pay-supplier--archive", "e1", "e2", "e3"]
_TASKS = [
    "collect invoices",
    "Collect Invoices",
    "pay supplier",
    "archive",
    "email team",
    "review",
    "brand new",
    "another one",
]


@st.composite
def graphs(draw: st.DrawFn) -> WorkflowGraph:
    ids = draw(st.lists(st.sampled_from(_IDS), max_size=6, unique=True))
    nodes = [Node(id=i, name=draw(st.sampled_from(_NAMES))) for i in ids]
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), unique=True)) if ids else []
    edge_ids = draw(
        st.lists(
            st.sampled_from(_EDGE_IDS) | st.text("ab", min_size=1, max_size=4),
            min_size=len(pairs),
            max_size=len(pairs),
            unique=True,
        )
    )
    edges = [Edge(id=i, source=s, target=t) for i, (s, t) in zip(edge_ids, pairs, strict=True)]
    return WorkflowGraph(nodes=nodes, edges=edges)


_MESSAGES = st.lists(st.sampled_from(_TASKS), max_size=6).map(" then ".join)


@given(graphs(), _MESSAGES)
def test_patching_adds_each_task_once_and_links_them(start: WorkflowGraph, message: str) -> None:
    before = start.model_dump()
    interpretation = interpret(message)
    result = apply_patch(start, build_patch(start, interpretation))
    assert start.model_dump() == before

    # A name already present gains no node; a new task gains exactly one.
    start_count = Counter(task_key(n.name) for n in start.nodes)
    result_count = Counter(task_key(n.name) for n in result.nodes)
    assert {key: start_count[key] or 1 for key in result_count} == dict(result_count)
    assert {task_key(t.name) for t in interpretation.tasks} <= set(result_count)

    first_node: dict[str, str] = {}
    for node in result.nodes:
        first_node.setdefault(task_key(node.name), node.id)
    task_node = {t.id: first_node[task_key(t.name)] for t in interpretation.tasks}
    pairs = {(e.source, e.target) for e in result.edges}
    assert all((task_node[link.source], task_node[link.target]) in pairs for link in interpretation.links)


@given(graphs(), _MESSAGES)
def test_the_same_interpretation_twice_adds_nothing(start: WorkflowGraph, message: str) -> None:
    interpretation = interpret(message)
    once = apply_patch(start, build_patch(start, interpretation))
    again = build_patch(once, interpretation)
    assert again.operations == []
    assert apply_patch(once, again) == once


@given(graphs(), _MESSAGES)
def test_build_patch_is_deterministic(start: WorkflowGraph, message: str) -> None:
    interpretation = interpret(message)
    before = start.model_dump()
    assert build_patch(start, interpretation) == build_patch(start, interpretation.model_dump())
    assert start.model_dump() == before


# --- auto_layout --------------------------------------------------------------------------------


def positions(graph_: WorkflowGraph) -> dict[str, tuple[float, float]]:
    return {n.id: (n.position.x, n.position.y) for n in graph_.nodes if n.position is not None}


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (
            graph([("a", "A"), ("b", "B"), ("c", "C")], [("1", "a", "b"), ("2", "b", "c")]),
            {"a": (0, 0), "b": (240, 0), "c": (480, 0)},
        ),
        (
            graph([("a", "A"), ("b", "B"), ("c", "C")], [("1", "a", "b"), ("2", "a", "c")]),
            {"a": (0, 0), "b": (240, 0), "c": (240, 120)},
        ),
        (
            graph([("a", "A"), ("b", "B"), ("c", "C")], [("1", "a", "b"), ("2", "b", "c"), ("3", "a", "c")]),
            {"a": (0, 0), "b": (240, 0), "c": (480, 0)},
        ),
        (graph([("a", "A"), ("b", "B")], [("1", "a", "b"), ("2", "b", "a")]), {"a": (0, 0), "b": (240, 0)}),
        (graph([("a", "A"), ("b", "B")]), {"a": (0, 0), "b": (0, 120)}),
    ],
)
def test_auto_layout_places_nodes_left_to_right(
    start: WorkflowGraph, expected: dict[str, tuple[float, float]]
) -> None:
    assert positions(auto_layout(start)) == expected
    assert positions(start) == {}


def test_auto_layout_keeps_placed_nodes_and_puts_new_ones_below() -> None:
    start = apply(ABC, {"op": "update_node", "id": "a", "updates": {"position": {"x": 7, "y": 50}}})
    assert positions(auto_layout(start)) == {"a": (7, 50), "b": (240, 170), "c": (0, 170)}


@given(graphs())
def test_auto_layout_positions_every_node(start: WorkflowGraph) -> None:
    laid_out = auto_layout(start)
    assert set(positions(laid_out)) == {n.id for n in start.nodes}
    assert len(set(positions(laid_out).values())) == len(start.nodes)
    assert auto_layout(laid_out) == laid_out
