"""Workflow patches: build one from an interpretation, apply one to a graph. Pure functions.

A patch is the unit of change of a workflow: the service applies it to the current version and
stores the result as the next version, so both functions take and return plain values and never
touch their inputs.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from talkative.conversation.schemas import Interpretation, Suggestions, task_key
from talkative.errors import InvalidInput
from talkative.workflows.graph import (
    MAX_ID_CHARS,
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    Edge,
    ElementId,
    Node,
    NodeUpdate,
    WorkflowGraph,
    describe_validation,
)

MAX_OPERATIONS = 1000

NodeDict = dict[str, Any]
EdgeDict = dict[str, Any]


class PatchError(InvalidInput):
    """A patch that cannot be built or applied; `index` is the failing operation, if any."""

    code = "INVALID_PATCH"

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddNode(_Op):
    op: Literal["add_node"] = "add_node"
    node: Node


class UpdateNode(_Op):
    op: Literal["update_node"] = "update_node"
    id: ElementId
    updates: NodeUpdate


class RemoveNode(_Op):
    """Removes the node and every edge touching it."""

    op: Literal["remove_node"] = "remove_node"
    id: ElementId


class AddEdge(_Op):
    op: Literal["add_edge"] = "add_edge"
    edge: Edge


class RemoveEdge(_Op):
    op: Literal["remove_edge"] = "remove_edge"
    id: ElementId


Operation = Annotated[AddNode | UpdateNode | RemoveNode | AddEdge | RemoveEdge, Field(discriminator="op")]


class WorkflowPatch(BaseModel):
    """Operations applied in order; `baseVersion` is the version it was built against.

    Checking `baseVersion` against the stored version (a 409 when stale) is the service's job:
    this module never sees versions.
    """

    baseVersion: int | None = Field(default=None, ge=0)
    operations: list[Operation] = Field(default_factory=list, max_length=MAX_OPERATIONS)


OperationKind = Literal["add_node", "update_node", "remove_node", "add_edge", "remove_edge"]
InterpretationLike = Interpretation | Suggestions | Mapping[str, Any]


def build_patch(
    graph: WorkflowGraph, interpretation: InterpretationLike, *, base_version: int | None = None
) -> WorkflowPatch:
    """The operations that add the interpretation's new tasks and links to `graph`.

    A task already in the graph (same `task_key` of its name) is reused, never duplicated, and
    an edge with the same source and target is never added twice, so applying the result and
    building again from the same interpretation yields an empty patch.
    """
    suggestions = _suggestions_of(interpretation)
    node_ids = {n.id for n in graph.nodes}
    edge_ids = {e.id for e in graph.edges}
    pairs = {(e.source, e.target) for e in graph.edges}
    node_for_key: dict[str, str] = {}
    for node in graph.nodes:
        node_for_key.setdefault(task_key(node.name), node.id)

    operations: list[Operation] = []
    resolved: dict[str, str] = {}  # suggestion node id -> graph node id
    for suggested in suggestions.nodes:
        key = task_key(suggested.name)
        if key not in node_for_key:
            node_for_key[key] = _claim_id(suggested.id, node_ids)
            node = Node(
                id=node_for_key[key],
                name=suggested.name[:MAX_NAME_CHARS],
                description=suggested.description[:MAX_TEXT_CHARS],
                status=suggested.status,
            )
            operations.append(AddNode(node=node))
        resolved[suggested.id] = node_for_key[key]

    for suggested_edge in suggestions.edges:
        # An end may also name a node already in the graph directly (an LLM provider may do so).
        source = resolved.get(suggested_edge.source, suggested_edge.source)
        target = resolved.get(suggested_edge.target, suggested_edge.target)
        if source not in node_ids or target not in node_ids or source == target:
            continue
        if (source, target) in pairs:
            continue
        pairs.add((source, target))
        edge = Edge(id=_claim_id(f"{source}--{target}", edge_ids), source=source, target=target)
        operations.append(AddEdge(edge=edge))
    return WorkflowPatch(baseVersion=base_version, operations=operations)


def nodes_by_task(graph: WorkflowGraph, patch: WorkflowPatch) -> dict[str, str]:
    """`task_key` of a task name -> the id of its node once `patch` is applied to `graph` (the
    same node `build_patch` reuses for that name), so a run's steps can name the node they execute."""
    found: dict[str, str] = {}
    added = [op.node for op in patch.operations if isinstance(op, AddNode)]
    for node in [*graph.nodes, *added]:
        found.setdefault(task_key(node.name), node.id)
    return found


def apply_patch(graph: WorkflowGraph, patch: WorkflowPatch) -> WorkflowGraph:
    """A new graph with the operations applied in order; raises `PatchError` on the first bad one."""
    # Work on dumps: the input shares nothing with the result and cannot be mutated.
    nodes: dict[str, NodeDict] = {n.id: n.model_dump() for n in graph.nodes}
    edges: dict[str, EdgeDict] = {e.id: e.model_dump() for e in graph.edges}
    for index, operation in enumerate(patch.operations):
        problem = _apply(operation, nodes, edges)
        if problem:
            raise PatchError(f"operation {index} ({operation.op}): {problem}", index=index)
    try:
        return WorkflowGraph.model_validate({"nodes": list(nodes.values()), "edges": list(edges.values())})
    except ValidationError as exc:  # only the size caps can still fail here
        raise PatchError(f"patched graph is invalid: {describe_validation(exc)}") from exc


def summarize_patch(patch: WorkflowPatch) -> str:
    """A short human summary, e.g. "2 nodes added, 1 edge added"; "no changes" when empty."""
    counts = Counter(operation.op for operation in patch.operations)
    parts = [
        f"{n} {noun}{'' if n == 1 else 's'} {verb}"
        for kind, noun, verb in _SUMMARY_ORDER
        if (n := counts[kind])
    ]
    return ", ".join(parts) or "no changes"


_SUMMARY_ORDER: tuple[tuple[OperationKind, str, str], ...] = (
    ("add_node", "node", "added"),
    ("update_node", "node", "updated"),
    ("remove_node", "node", "removed"),
    ("add_edge", "edge", "added"),
    ("remove_edge", "edge", "removed"),
)


def _apply(operation: Operation, nodes: dict[str, NodeDict], edges: dict[str, EdgeDict]) -> str:
    """Applies one operation in place on the working copies; returns a problem or ""."""
    match operation:
        case AddNode(node=node):
            if node.id in nodes:
                return f"node id {node.id!r} already exists"
            nodes[node.id] = node.model_dump()
        case UpdateNode(id=node_id, updates=updates):
            if node_id not in nodes:
                return f"unknown node {node_id!r}"
            merged = {**nodes[node_id], **updates.model_dump(exclude_unset=True)}
            try:
                nodes[node_id] = Node.model_validate(merged).model_dump()
            except ValidationError as exc:
                return describe_validation(exc)
        case RemoveNode(id=node_id):
            if nodes.pop(node_id, None) is None:
                return f"unknown node {node_id!r}"
            for edge_id in [k for k, e in edges.items() if node_id in (e["source"], e["target"])]:
                del edges[edge_id]
        case AddEdge(edge=edge):
            return _add_edge(edge, nodes, edges)
        case RemoveEdge(id=edge_id):
            if edges.pop(edge_id, None) is None:
                return f"unknown edge {edge_id!r}"
    return ""


def _add_edge(edge: Edge, nodes: dict[str, NodeDict], edges: dict[str, EdgeDict]) -> str:
    if edge.id in edges:
        return f"edge id {edge.id!r} already exists"
    for end in (edge.source, edge.target):
        if end not in nodes:
            return f"edge {edge.id!r} references unknown node {end!r}"
    if any((e["source"], e["target"]) == (edge.source, edge.target) for e in edges.values()):
        return f"an edge {edge.source!r} -> {edge.target!r} already exists"
    edges[edge.id] = edge.model_dump()
    return ""


def _suggestions_of(interpretation: InterpretationLike) -> Suggestions:
    if isinstance(interpretation, Interpretation):
        return interpretation.suggestions
    if isinstance(interpretation, Suggestions):
        return interpretation
    if "suggestions" not in interpretation:
        raise PatchError("interpretation has no 'suggestions'")
    try:
        return Suggestions.model_validate(interpretation["suggestions"])
    except ValidationError as exc:
        raise PatchError(f"invalid suggestions: {describe_validation(exc)}") from exc


def _claim_id(base: str, taken: set[str]) -> str:
    """An id from `base` that is valid, not in `taken`, and now recorded in `taken`."""
    base = "-".join(base.split()) or "id"  # suggestions from a provider may hold whitespace
    if len(base) > MAX_ID_CHARS:
        # Keep long bases distinct after the cut with a short digest of the whole.
        digest = hashlib.sha256(base.encode()).hexdigest()[:8]
        base = f"{base[: MAX_ID_CHARS - 9]}-{digest}"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = base[: MAX_ID_CHARS - len(suffix)] + suffix
    taken.add(candidate)
    return candidate
