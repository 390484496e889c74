/**
 * The Workflow Editor's pure logic: API workflow ↔ React Flow nodes/edges, the layered
 * auto-layout, new-node detection and the save body. No React, no I/O: unit tested.
 */
import type { Edge as FlowEdge, Node as FlowNode } from "@xyflow/react";
import type { Schemas } from "../../api/client";

export type WorkflowNode = Schemas["Node"];
export type WorkflowEdge = Schemas["Edge"];
export type Workflow = Schemas["WorkflowRead"];
export type WorkflowVersion = Schemas["VersionRead"];
export type SaveBody = Schemas["WorkflowWrite"];
export type NodeStatus = NonNullable<WorkflowNode["status"]>;
export type Point = { x: number; y: number };

/** The backend's node statuses (talkative/workflows/graph.py `NodeStatus`), in lifecycle order:
 * the last three are what a run did with the node (the read API derives them from its steps). */
export const NODE_STATUSES: readonly NodeStatus[] = ["pending", "active", "done", "failed", "rejected", "cancelled"];

/** One graph: the nodes and edges of a workflow or of one of its versions. */
export interface Graph {
  nodes: WorkflowNode[];
  edges: WorkflowEdge[];
}

/** What a React Flow node carries: the API node (minus its position, which React Flow owns). */
export type WfNodeData = { node: Omit<WorkflowNode, "position">; isNew?: boolean };
export type WfFlowNode = FlowNode<WfNodeData, "workflow">;
export type WfFlowEdge = FlowEdge;
export interface FlowGraph {
  nodes: WfFlowNode[];
  edges: WfFlowEdge[];
}

export const LAYOUT = { xGap: 240, yGap: 100, nodeWidth: 190, nodeHeight: 70 } as const;
export const MAX_NAME_CHARS = 200;
const MAX_ID_CHARS = 128;

export function statusOf(node: Pick<WorkflowNode, "status">): NodeStatus {
  return node.status ?? "pending";
}

// ---- layout ----------------------------------------------------------------------------

/**
 * Longest-path layers, left to right along the edges (Kahn's order). A cycle is broken at its
 * first node in graph order; self-loops and edges to unknown nodes are ignored; a node with no
 * edges is in layer 0.
 */
export function layers(
  nodes: readonly Pick<WorkflowNode, "id">[],
  edges: readonly WorkflowEdge[],
): Map<string, number> {
  const order = nodes.map((n) => n.id);
  const successors = new Map<string, string[]>(order.map((id) => [id, []]));
  const waiting = new Map<string, number>(order.map((id) => [id, 0]));
  for (const edge of edges) {
    if (edge.source === edge.target || !successors.has(edge.source) || !successors.has(edge.target)) continue;
    successors.get(edge.source)!.push(edge.target);
    waiting.set(edge.target, waiting.get(edge.target)! + 1);
  }
  const layer = new Map<string, number>(order.map((id) => [id, 0]));
  const ready = order.filter((id) => waiting.get(id) === 0);
  const done = new Set<string>();
  while (done.size < order.length) {
    if (ready.length === 0) ready.push(order.find((id) => !done.has(id))!); // break a cycle
    const current = ready.shift()!;
    if (done.has(current)) continue;
    done.add(current);
    for (const target of successors.get(current)!) {
      if (done.has(target)) continue; // a back edge of a cycle
      layer.set(target, Math.max(layer.get(target)!, layer.get(current)! + 1));
      const left = waiting.get(target)! - 1;
      waiting.set(target, left);
      if (left === 0) ready.push(target);
    }
  }
  return layer;
}

/**
 * A position for every node. Nodes with a `position` keep it (as do nodes found in `keep`, the
 * positions currently on screen); the others go in the column of their layer, in graph order,
 * below anything already placed in that column so nothing overlaps.
 */
export function autoLayout(
  nodes: readonly WorkflowNode[],
  edges: readonly WorkflowEdge[],
  keep?: ReadonlyMap<string, Point>,
): Map<string, Point> {
  const { xGap, yGap, nodeWidth } = LAYOUT;
  const positions = new Map<string, Point>();
  for (const node of nodes) {
    const fixed = node.position ?? keep?.get(node.id);
    if (fixed) positions.set(node.id, { x: fixed.x, y: fixed.y });
  }
  const placed = Array.from(positions.values());
  const layerOf = layers(nodes, edges);
  const nextY = new Map<number, number>();
  for (const node of nodes) {
    if (positions.has(node.id)) continue;
    const layer = layerOf.get(node.id) ?? 0;
    const x = layer * xGap;
    if (!nextY.has(layer)) {
      const below = placed.filter((p) => p.x < x + nodeWidth && p.x + nodeWidth > x).map((p) => p.y + yGap);
      nextY.set(layer, below.length ? Math.max(...below) : 0);
    }
    const y = nextY.get(layer)!;
    nextY.set(layer, y + yGap);
    positions.set(node.id, { x, y });
  }
  return positions;
}

/** Where a node added by hand goes: right of the rightmost node, or the origin. */
export function positionForNew(nodes: readonly { position: Point }[]): Point {
  if (nodes.length === 0) return { x: 0, y: 0 };
  const rightmost = nodes.reduce((a, b) => (b.position.x > a.position.x ? b : a));
  return { x: rightmost.position.x + LAYOUT.xGap, y: rightmost.position.y };
}

/**
 * `at` (rounded), moved right (the direction edges run) until it overlaps no node: where a node
 * added at the view's centre goes.
 */
export function freeSpot(at: Point, nodes: readonly { position: Point }[]): Point {
  const { nodeWidth, nodeHeight, xGap } = LAYOUT;
  const spot = { x: Math.round(at.x), y: Math.round(at.y) };
  const overlaps = () =>
    nodes.some((n) => Math.abs(n.position.x - spot.x) < nodeWidth && Math.abs(n.position.y - spot.y) < nodeHeight);
  while (overlaps()) spot.x += xGap;
  return spot;
}

// ---- mapping -----------------------------------------------------------------------------

/** API graph → React Flow. Edges whose ends are missing are dropped (React Flow cannot draw them). */
export function toFlow(graph: Graph, keep?: ReadonlyMap<string, Point>): FlowGraph {
  const positions = autoLayout(graph.nodes, graph.edges, keep);
  const ids = new Set(graph.nodes.map((n) => n.id));
  const nodes: WfFlowNode[] = graph.nodes.map((apiNode) => {
    const { position: _position, ...node } = apiNode;
    return { id: apiNode.id, type: "workflow", position: positions.get(apiNode.id)!, data: { node } };
  });
  const edges: WfFlowEdge[] = graph.edges
    .filter((e) => ids.has(e.source) && ids.has(e.target))
    .map((e) => ({ id: e.id, source: e.source, target: e.target }));
  return { nodes, edges };
}

/** React Flow → API graph: every node with the position it has on screen. */
export function fromFlow(nodes: readonly WfFlowNode[], edges: readonly WfFlowEdge[]): Graph {
  return {
    nodes: nodes.map((n) => ({ ...n.data.node, id: n.id, position: { x: n.position.x, y: n.position.y } })),
    edges: edges.map((e) => ({ id: e.id, source: e.source, target: e.target })),
  };
}

/** The on-screen positions, to keep nodes still when a new version is loaded. */
export function positionsOf(nodes: readonly WfFlowNode[]): Map<string, Point> {
  return new Map(nodes.map((n) => [n.id, n.position]));
}

/** A stable text of a graph (keys sorted), to tell whether the draft differs from what was loaded. */
export function graphSignature(graph: Graph): string {
  return canonical(graph);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

// ---- live updates --------------------------------------------------------------------------

/** Ids in `after` that were not in `before`; nothing when there was no `before` (first load). */
export function newNodeIds(before: Iterable<string> | null, after: readonly Pick<WorkflowNode, "id">[]): string[] {
  if (before === null) return [];
  const known = new Set(before);
  return after.filter((n) => !known.has(n.id)).map((n) => n.id);
}

/** The flow nodes with `isNew` set for the given ids (and cleared for the others). */
export function markNew(nodes: WfFlowNode[], fresh: ReadonlySet<string>): WfFlowNode[] {
  if (fresh.size === 0 && !nodes.some((n) => n.data.isNew)) return nodes;
  return nodes.map((n) => {
    const isNew = fresh.has(n.id);
    return !!n.data.isNew === isNew ? n : { ...n, data: { ...n.data, isNew } };
  });
}

// ---- editing -------------------------------------------------------------------------------

/** An id for `base` that is valid for the API (no whitespace, ≤128 chars) and not in `taken`. */
export function claimId(base: string, taken: ReadonlySet<string>): string {
  const clean = base.split(/\s+/).filter(Boolean).join("-").slice(0, MAX_ID_CHARS) || "id";
  let candidate = clean;
  for (let n = 2; taken.has(candidate); n++) {
    const suffix = `-${n}`;
    candidate = clean.slice(0, MAX_ID_CHARS - suffix.length) + suffix;
  }
  return candidate;
}

/** A node id from its name ("Review draft" → "review-draft", then "review-draft-2"). */
export function nodeIdFor(name: string, taken: ReadonlySet<string>): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // accents
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return claimId(slug || "node", taken);
}

export function edgeIdFor(source: string, target: string, taken: ReadonlySet<string>): string {
  return claimId(`${source}--${target}`, taken);
}

/** Whether an edge source → target may be added: both given, not a loop, not a duplicate. */
export function canConnect(
  edges: readonly Pick<WorkflowEdge, "source" | "target">[],
  source?: string | null,
  target?: string | null,
): boolean {
  if (!source || !target || source === target) return false;
  return !edges.some((e) => e.source === source && e.target === target);
}

/** A name as the API will store it, or an error in words. */
export function checkName(name: string): { name: string } | { error: string } {
  const trimmed = name.trim();
  if (!trimmed) return { error: "A node needs a name." };
  if (trimmed.length > MAX_NAME_CHARS) return { error: `A name is at most ${MAX_NAME_CHARS} characters.` };
  return { name: trimmed };
}

/** A new pending node named `name`; at a free spot near `at` when given, else right of the others. */
export function addNode(graph: FlowGraph, name: string, at?: Point | null): { graph: FlowGraph; id: string } {
  const id = nodeIdFor(name, new Set(graph.nodes.map((n) => n.id)));
  const node: WfFlowNode = {
    id,
    type: "workflow",
    position: at ? freeSpot(at, graph.nodes) : positionForNew(graph.nodes),
    data: { node: { id, name, description: "", inputs: [], outputs: [], status: "pending" } },
  };
  return { graph: { ...graph, nodes: [...graph.nodes, node] }, id };
}

export function connect(graph: FlowGraph, source: string, target: string): FlowGraph {
  if (!canConnect(graph.edges, source, target)) return graph;
  const nodeIds = new Set(graph.nodes.map((n) => n.id));
  if (!nodeIds.has(source) || !nodeIds.has(target)) return graph;
  const id = edgeIdFor(source, target, new Set(graph.edges.map((e) => e.id)));
  return { ...graph, edges: [...graph.edges, { id, source, target }] };
}

export function updateNodeData(
  graph: FlowGraph,
  id: string,
  updates: Partial<Omit<WorkflowNode, "id" | "position">>,
): FlowGraph {
  return {
    ...graph,
    nodes: graph.nodes.map((n) =>
      n.id === id ? { ...n, data: { ...n.data, node: { ...n.data.node, ...updates } } } : n,
    ),
  };
}

/** Removes the nodes, every edge touching them, and the given edges. */
export function removeElements(graph: FlowGraph, nodeIds: Iterable<string>, edgeIds: Iterable<string> = []): FlowGraph {
  const goneNodes = new Set(nodeIds);
  const goneEdges = new Set(edgeIds);
  return {
    nodes: graph.nodes.filter((n) => !goneNodes.has(n.id)),
    edges: graph.edges.filter((e) => !goneEdges.has(e.id) && !goneNodes.has(e.source) && !goneNodes.has(e.target)),
  };
}

// ---- saving ------------------------------------------------------------------------------

/** The integrity rules the server checks (graph.py `graph_problems`) plus names, in words. */
export function graphProblems(graph: Graph): string[] {
  const problems: string[] = [];
  const nodeIds = new Set<string>();
  for (const node of graph.nodes) {
    if (nodeIds.has(node.id)) problems.push(`Two nodes have the id “${node.id}”.`);
    nodeIds.add(node.id);
    if (!node.name.trim()) problems.push(`Node “${node.id}” has no name.`);
  }
  const edgeIds = new Set<string>();
  const pairs = new Set<string>();
  for (const edge of graph.edges) {
    if (edgeIds.has(edge.id)) problems.push(`Two connections have the id “${edge.id}”.`);
    edgeIds.add(edge.id);
    for (const end of [edge.source, edge.target]) {
      if (!nodeIds.has(end)) problems.push(`Connection “${edge.id}” points to a missing node “${end}”.`);
    }
    const pair = JSON.stringify([edge.source, edge.target]);
    if (pairs.has(pair)) problems.push(`Connection “${edge.id}” duplicates ${edge.source} → ${edge.target}.`);
    pairs.add(pair);
  }
  return problems;
}

/** The body of POST /workflow that saves `graph` as the next version of `workflow`. */
export function buildSaveBody(workflow: Pick<Workflow, "id" | "name">, graph: Graph, note?: string | null): SaveBody {
  const text = note?.trim();
  return {
    id: workflow.id,
    name: workflow.name,
    nodes: graph.nodes.map((n) => ({ ...n })),
    edges: graph.edges.map((e) => ({ id: e.id, source: e.source, target: e.target })),
    note: text ? text : null,
  };
}

/** "Restore": the old version's nodes and edges saved as a new version. */
export function buildRestoreBody(workflow: Pick<Workflow, "id" | "name">, version: WorkflowVersion): SaveBody {
  return buildSaveBody(workflow, { nodes: version.nodes, edges: version.edges }, `restore of v${version.version}`);
}

/** The version list newest first (the API lists newest last). */
export function newestFirst(versions: readonly WorkflowVersion[] | null | undefined): WorkflowVersion[] {
  return [...(versions ?? [])].sort((a, b) => b.version - a.version);
}
