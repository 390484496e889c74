"""Data shapes of a workflow graph (one version) and the rules every version must satisfy.

Field names are camelCase because they are the wire and storage format the Workflow Editor
(React Flow) and the legacy POC data already use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    StringConstraints,
    ValidationError,
    model_validator,
)

from talkative.errors import InvalidInput

MAX_ID_CHARS = 128
MAX_NAME_CHARS = 200
MAX_TEXT_CHARS = 4000
MAX_NODES = 1000
MAX_EDGES = 4000

# Ids travel in URLs (PATCH /node/{id}) and DOM attributes, hence no whitespace.
ElementId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS, pattern=r"^\S+$")]
NodeName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)]
ShortText = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)]
Amount = Annotated[FiniteFloat, Field(ge=0)]
# The last three are what a node's run did with it (workflows/status.py); a stored graph may hold them too.
NodeStatus = Literal["pending", "active", "done", "failed", "rejected", "cancelled"]


class GraphError(InvalidInput):
    """A graph that breaks an integrity rule (duplicate id, dangling edge, ...)."""

    code = "INVALID_WORKFLOW"


class Position(BaseModel):
    x: FiniteFloat
    y: FiniteFloat


class NodeMetrics(BaseModel):
    timeSpent: Amount | None = None
    cost: Amount | None = None
    notes: ShortText = ""


class Node(BaseModel):
    id: ElementId
    name: NodeName
    description: ShortText = ""
    inputs: list[ShortText] = Field(default_factory=list)
    outputs: list[ShortText] = Field(default_factory=list)
    status: NodeStatus = "pending"
    position: Position | None = None
    assignedPerson: Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS)] | None = None
    metrics: NodeMetrics | None = None


class Edge(BaseModel):
    """`source` runs before `target` (node ids)."""

    id: ElementId
    source: ElementId
    target: ElementId


class WorkflowGraph(BaseModel):
    nodes: list[Node] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[Edge] = Field(default_factory=list, max_length=MAX_EDGES)

    @model_validator(mode="after")
    def _check_integrity(self) -> WorkflowGraph:
        problems = graph_problems(self.nodes, self.edges)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class NodeUpdate(BaseModel):
    """A partial node: only the fields present are changed; `id` cannot change."""

    model_config = ConfigDict(extra="forbid")

    name: NodeName | None = None
    description: ShortText | None = None
    inputs: list[ShortText] | None = None
    outputs: list[ShortText] | None = None
    status: NodeStatus | None = None
    position: Position | None = None
    assignedPerson: Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS)] | None = None
    metrics: NodeMetrics | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self) -> NodeUpdate:
        # null means "clear" for position, assignedPerson and metrics; the rest cannot be cleared.
        nulled = sorted(f for f in self.model_fields_set & _NOT_NULLABLE if getattr(self, f) is None)
        if nulled:
            raise ValueError(f"cannot be null: {', '.join(nulled)}")
        return self


_NOT_NULLABLE = frozenset({"name", "description", "inputs", "outputs", "status"})


def graph_problems(nodes: list[Node], edges: list[Edge]) -> list[str]:
    """Every integrity rule the graph breaks, as messages; empty when it is valid."""
    problems: list[str] = []
    node_ids: set[str] = set()
    for node in nodes:
        if node.id in node_ids:
            problems.append(f"duplicate node id {node.id!r}")
        node_ids.add(node.id)
    edge_ids: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for edge in edges:
        if edge.id in edge_ids:
            problems.append(f"duplicate edge id {edge.id!r}")
        edge_ids.add(edge.id)
        for end in (edge.source, edge.target):
            if end not in node_ids:
                problems.append(f"edge {edge.id!r} references missing node {end!r}")
        if (edge.source, edge.target) in pairs:
            problems.append(f"edge {edge.id!r} duplicates {edge.source!r} -> {edge.target!r}")
        pairs.add((edge.source, edge.target))
    return problems


def validate_graph(data: WorkflowGraph | Mapping[str, Any]) -> WorkflowGraph:
    """A checked `WorkflowGraph` from plain data; raises `GraphError` (422) naming the problems."""
    # An instance is re-checked from its dump: it may have been mutated since it was built.
    raw = data.model_dump() if isinstance(data, WorkflowGraph) else data
    try:
        return WorkflowGraph.model_validate(raw)
    except ValidationError as exc:
        raise GraphError(f"invalid workflow graph: {describe_validation(exc)}") from exc


def describe_validation(exc: ValidationError) -> str:
    """A one-line, human reading of pydantic's errors (first three), for `{"error": ...}`."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def auto_layout(graph: WorkflowGraph, *, x_gap: float = 240.0, y_gap: float = 120.0) -> WorkflowGraph:
    """A copy where every node without a position gets one; placed nodes never move.

    Columns follow the edges left to right (a node sits one column right of its furthest
    predecessor); the new nodes go in a band below the placed ones so nothing overlaps.
    """
    layers = _layers(graph)
    placed = [n.position.y for n in graph.nodes if n.position is not None]
    top = max(placed) + y_gap if placed else 0.0
    rows: dict[int, int] = {}
    nodes = []
    for node in graph.nodes:
        data = node.model_dump()
        if node.position is None:
            layer = layers[node.id]
            row = rows[layer] = rows.get(layer, -1) + 1
            data["position"] = {"x": layer * x_gap, "y": top + row * y_gap}
        nodes.append(data)
    return WorkflowGraph.model_validate({"nodes": nodes, "edges": [e.model_dump() for e in graph.edges]})


def _layers(graph: WorkflowGraph) -> dict[str, int]:
    """Longest-path layers (Kahn's order); a cycle is broken at its first node in graph order."""
    order = [n.id for n in graph.nodes]
    successors: dict[str, list[str]] = {node_id: [] for node_id in order}
    waiting = dict.fromkeys(order, 0)  # unplaced predecessors
    for edge in graph.edges:
        successors[edge.source].append(edge.target)
        waiting[edge.target] += 1
    layer = dict.fromkeys(order, 0)
    ready = [node_id for node_id in order if waiting[node_id] == 0]
    done: set[str] = set()
    while len(done) < len(order):
        if not ready:
            ready.append(next(node_id for node_id in order if node_id not in done))
        current = ready.pop(0)
        if current in done:
            continue
        done.add(current)
        for target in successors[current]:
            if target in done:
                continue  # a back edge of a cycle: placed nodes keep their column
            layer[target] = max(layer[target], layer[current] + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return layer
