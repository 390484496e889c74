import { describe, expect, it } from "vitest";
import {
  addNode,
  autoLayout,
  buildRestoreBody,
  buildSaveBody,
  canConnect,
  checkName,
  freeSpot,
  claimId,
  connect,
  fromFlow,
  graphProblems,
  graphSignature,
  layers,
  LAYOUT,
  markNew,
  newestFirst,
  newNodeIds,
  nodeIdFor,
  positionForNew,
  positionsOf,
  removeElements,
  toFlow,
  updateNodeData,
  type Graph,
  type WorkflowEdge,
  type WorkflowNode,
  type WorkflowVersion,
} from "./graph";

function node(id: string, position?: { x: number; y: number } | null, extra: Partial<WorkflowNode> = {}): WorkflowNode {
  return {
    id,
    name: `Task ${id}`,
    description: "",
    inputs: [],
    outputs: [],
    status: "pending",
    position: position ?? null,
    assignedPerson: null,
    metrics: null,
    ...extra,
  };
}

function edge(source: string, target: string, id = `${source}--${target}`): WorkflowEdge {
  return { id, source, target };
}

const { xGap, yGap } = LAYOUT;

describe("layers", () => {
  it("puts each node one column right of its furthest predecessor", () => {
    const nodes = ["a", "b", "c", "d"].map((id) => node(id));
    const edges = [edge("a", "b"), edge("b", "c"), edge("a", "c"), edge("c", "d")];
    expect(Object.fromEntries(layers(nodes, edges))).toEqual({ a: 0, b: 1, c: 2, d: 3 });
  });

  it("breaks a cycle and still places every node", () => {
    const nodes = ["a", "b", "c"].map((id) => node(id));
    const edges = [edge("a", "b"), edge("b", "c"), edge("c", "a")];
    expect(Object.fromEntries(layers(nodes, edges))).toEqual({ a: 0, b: 1, c: 2 });
  });

  it("handles a cycle entered from outside, self-loops and unknown ends", () => {
    const nodes = ["s", "x", "y"].map((id) => node(id));
    const edges = [edge("s", "x"), edge("x", "y"), edge("y", "x"), edge("y", "y"), edge("y", "ghost")];
    const result = layers(nodes, edges);
    expect(result.get("s")).toBe(0);
    expect(result.get("x")! > 0 && result.get("y")! > 0).toBe(true);
    expect(result.size).toBe(3);
  });

  it("puts disconnected nodes in layer 0", () => {
    expect(Object.fromEntries(layers([node("a"), node("b")], []))).toEqual({ a: 0, b: 0 });
  });
});

describe("autoLayout", () => {
  it("lays out nodes without positions in layers left to right, rows within a layer", () => {
    const nodes = ["a", "b", "c", "d"].map((id) => node(id));
    const edges = [edge("a", "b"), edge("a", "c"), edge("b", "d"), edge("c", "d")];
    const pos = autoLayout(nodes, edges);
    expect(pos.get("a")).toEqual({ x: 0, y: 0 });
    expect(pos.get("b")).toEqual({ x: xGap, y: 0 });
    expect(pos.get("c")).toEqual({ x: xGap, y: yGap });
    expect(pos.get("d")).toEqual({ x: 2 * xGap, y: 0 });
  });

  it("keeps given positions and places the others without overlapping them", () => {
    const nodes = [node("a", { x: 0, y: 0 }), node("b", { x: 500, y: 333 }), node("c"), node("d")];
    const edges = [edge("a", "c")];
    const pos = autoLayout(nodes, edges);
    expect(pos.get("a")).toEqual({ x: 0, y: 0 });
    expect(pos.get("b")).toEqual({ x: 500, y: 333 });
    // d (layer 0) goes below a, which occupies column 0; c (layer 1) has an empty column.
    expect(pos.get("d")).toEqual({ x: 0, y: yGap });
    expect(pos.get("c")).toEqual({ x: xGap, y: 0 });
  });

  it("keeps on-screen positions from `keep` for nodes the server has not placed", () => {
    const nodes = [node("a"), node("b")];
    const pos = autoLayout(nodes, [edge("a", "b")], new Map([["a", { x: 40, y: 70 }]]));
    expect(pos.get("a")).toEqual({ x: 40, y: 70 });
    expect(pos.get("b")).toEqual({ x: xGap, y: 0 });
  });

  it("gives every node of a cyclic graph a distinct position", () => {
    const nodes = ["a", "b", "c", "lonely"].map((id) => node(id));
    const edges = [edge("a", "b"), edge("b", "c"), edge("c", "a")];
    const pos = autoLayout(nodes, edges);
    expect(pos.size).toBe(4);
    const keys = new Set(Array.from(pos.values(), (p) => `${p.x},${p.y}`));
    expect(keys.size).toBe(4);
  });
});

describe("toFlow / fromFlow", () => {
  const graph: Graph = {
    nodes: [
      node(
        "a",
        { x: 10, y: 20.5 },
        { description: "first", status: "done", assignedPerson: "ana", metrics: { cost: 1.5, notes: "" } },
      ),
      node("b", { x: 300, y: 20 }, { status: "active", inputs: ["x"], outputs: ["y"] }),
    ],
    edges: [edge("a", "b", "e1")],
  };

  it("maps API nodes and edges to React Flow", () => {
    const flow = toFlow(graph);
    expect(flow.nodes).toHaveLength(2);
    expect(flow.nodes[0]).toMatchObject({ id: "a", type: "workflow", position: { x: 10, y: 20.5 } });
    expect(flow.nodes[0].data.node).toMatchObject({ name: "Task a", status: "done", description: "first" });
    expect("position" in flow.nodes[0].data.node).toBe(false);
    expect(flow.edges).toEqual([{ id: "e1", source: "a", target: "b" }]);
  });

  it("round-trips a placed graph unchanged", () => {
    const flow = toFlow(graph);
    expect(fromFlow(flow.nodes, flow.edges)).toEqual(graph);
    expect(graphSignature(fromFlow(flow.nodes, flow.edges))).toBe(graphSignature(graph));
  });

  it("gives unplaced nodes their layout position on the way back", () => {
    const flow = toFlow({ nodes: [node("a"), node("b")], edges: [edge("a", "b")] });
    const back = fromFlow(flow.nodes, flow.edges);
    expect(back.nodes.map((n) => n.position)).toEqual([
      { x: 0, y: 0 },
      { x: xGap, y: 0 },
    ]);
  });

  it("takes moves made in React Flow", () => {
    const flow = toFlow(graph);
    const moved = flow.nodes.map((n) => (n.id === "b" ? { ...n, position: { x: 999, y: -5 } } : n));
    expect(fromFlow(moved, flow.edges).nodes[1].position).toEqual({ x: 999, y: -5 });
    expect(positionsOf(moved).get("b")).toEqual({ x: 999, y: -5 });
  });

  it("drops edges whose ends are missing", () => {
    const flow = toFlow({ nodes: [node("a")], edges: [edge("a", "ghost")] });
    expect(flow.edges).toEqual([]);
  });

  it("ignores React Flow's own edge fields on the way back", () => {
    const flow = toFlow(graph);
    const edges = flow.edges.map((e) => ({ ...e, selected: true, animated: true }));
    expect(fromFlow(flow.nodes, edges).edges).toEqual(graph.edges);
  });
});

describe("graphSignature", () => {
  it("ignores key order but not values", () => {
    const a: Graph = { nodes: [{ id: "a", name: "A", position: { x: 1, y: 2 } }], edges: [] };
    const b: Graph = { nodes: [{ position: { y: 2, x: 1 }, name: "A", id: "a" }], edges: [] };
    expect(graphSignature(a)).toBe(graphSignature(b));
    expect(graphSignature(a)).not.toBe(graphSignature({ ...a, nodes: [{ ...a.nodes[0], name: "B" }] }));
  });
});

describe("new-node detection", () => {
  it("finds the ids that were not there before", () => {
    expect(newNodeIds(["a", "b"], [node("a"), node("b"), node("c"), node("d")])).toEqual(["c", "d"]);
    expect(newNodeIds(new Set(["a"]), [node("a")])).toEqual([]);
  });

  it("reports nothing on the first load", () => {
    expect(newNodeIds(null, [node("a")])).toEqual([]);
  });

  it("marks and unmarks nodes as new", () => {
    const flow = toFlow({ nodes: [node("a"), node("b")], edges: [] });
    const marked = markNew(flow.nodes, new Set(["b"]));
    expect(marked.map((n) => !!n.data.isNew)).toEqual([false, true]);
    expect(marked[0]).toBe(flow.nodes[0]);
    expect(markNew(marked, new Set()).map((n) => !!n.data.isNew)).toEqual([false, false]);
    expect(markNew(flow.nodes, new Set())).toBe(flow.nodes);
  });
});

describe("editing", () => {
  it("makes ids from names, unique and without whitespace", () => {
    expect(nodeIdFor("Review the draft!", new Set())).toBe("review-the-draft");
    expect(nodeIdFor("Review the draft", new Set(["review-the-draft"]))).toBe("review-the-draft-2");
    expect(nodeIdFor("   ", new Set())).toBe("node");
    expect(nodeIdFor("Äpfel zählen", new Set())).toBe("apfel-zahlen");
    expect(claimId("a b", new Set(["a-b", "a-b-2"]))).toBe("a-b-3");
    expect(claimId("x".repeat(300), new Set()).length).toBe(128);
  });

  it("adds a node to the right of the others", () => {
    const start = toFlow({ nodes: [node("a", { x: 0, y: 50 }), node("b", { x: 400, y: 10 })], edges: [] });
    const { graph, id } = addNode(start, "Send report");
    expect(id).toBe("send-report");
    const added = graph.nodes.find((n) => n.id === id)!;
    expect(added.position).toEqual({ x: 400 + xGap, y: 10 });
    expect(added.data.node).toMatchObject({ name: "Send report", status: "pending" });
    expect(positionForNew([])).toEqual({ x: 0, y: 0 });
    // At the view's centre, moved right past the nodes already there.
    const centred = addNode(start, "Check", { x: 10.4, y: 40 });
    expect(centred.graph.nodes.find((n) => n.id === centred.id)!.position).toEqual({ x: 10 + 3 * xGap, y: 40 }); // past a (x 0) and b (x 400)
    expect(freeSpot({ x: 1000, y: 1000 }, start.nodes)).toEqual({ x: 1000, y: 1000 });
    expect(start.nodes).toHaveLength(2); // not mutated
  });

  it("connects nodes once, never to themselves", () => {
    let flow = toFlow({ nodes: [node("a"), node("b")], edges: [] });
    flow = connect(flow, "a", "b");
    expect(flow.edges).toEqual([{ id: "a--b", source: "a", target: "b" }]);
    expect(connect(flow, "a", "b")).toBe(flow);
    expect(connect(flow, "a", "a")).toBe(flow);
    expect(connect(flow, "a", "ghost")).toBe(flow);
    expect(canConnect(flow.edges, "b", "a")).toBe(true);
    expect(canConnect(flow.edges, "a", "b")).toBe(false);
    expect(canConnect(flow.edges, null, "a")).toBe(false);
  });

  it("renames and changes status without touching other fields", () => {
    const flow = toFlow({ nodes: [node("a", null, { description: "keep me" })], edges: [] });
    const renamed = updateNodeData(flow, "a", { name: "New name", status: "active" });
    expect(renamed.nodes[0].data.node).toMatchObject({ name: "New name", status: "active", description: "keep me" });
    expect(flow.nodes[0].data.node.name).toBe("Task a");
  });

  it("removes nodes with their edges, and single edges", () => {
    const flow = toFlow({
      nodes: [node("a"), node("b"), node("c")],
      edges: [edge("a", "b"), edge("b", "c"), edge("a", "c")],
    });
    const withoutB = removeElements(flow, ["b"]);
    expect(withoutB.nodes.map((n) => n.id)).toEqual(["a", "c"]);
    expect(withoutB.edges.map((e) => e.id)).toEqual(["a--c"]);
    expect(removeElements(flow, [], ["a--c"]).edges.map((e) => e.id)).toEqual(["a--b", "b--c"]);
  });

  it("checks names", () => {
    expect(checkName("  Plan  ")).toEqual({ name: "Plan" });
    expect(checkName("   ")).toHaveProperty("error");
    expect(checkName("x".repeat(201))).toHaveProperty("error");
  });
});

describe("saving", () => {
  const workflow = { id: "wf-1", name: "Onboarding" };

  it("builds the POST /workflow body and round-trips it", () => {
    const graph: Graph = { nodes: [node("a"), node("b", { x: 5, y: 6 })], edges: [edge("a", "b")] };
    const flow = toFlow(graph);
    const body = buildSaveBody(workflow, fromFlow(flow.nodes, flow.edges), "  first cut ");
    expect(body).toMatchObject({ id: "wf-1", name: "Onboarding", note: "first cut" });
    // a had no position: it goes in column 0, below b which overlaps that column.
    expect(body.nodes?.map((n) => n.position)).toEqual([
      { x: 0, y: 6 + yGap },
      { x: 5, y: 6 },
    ]);
    // What the server stores and sends back loads to the very same graph.
    const again = toFlow({ nodes: body.nodes ?? [], edges: body.edges ?? [] });
    expect(fromFlow(again.nodes, again.edges)).toEqual({ nodes: body.nodes, edges: body.edges });
    expect(buildSaveBody(workflow, graph, "   ").note).toBeNull();
    expect(buildSaveBody(workflow, graph).note).toBeNull();
  });

  it("restores a version as a new version with a note", () => {
    const version: WorkflowVersion = {
      version: 3,
      createdAt: "2026-01-01T00:00:00Z",
      note: null,
      run_id: "run-1",
      nodes: [node("a")],
      edges: [],
    };
    expect(buildRestoreBody(workflow, version)).toEqual({
      id: "wf-1",
      name: "Onboarding",
      nodes: [node("a")],
      edges: [],
      note: "restore of v3",
    });
  });

  it("finds what the server would refuse, in words", () => {
    const bad: Graph = {
      nodes: [node("a"), node("a"), { ...node("c"), name: " " }],
      edges: [edge("a", "ghost", "e1"), edge("a", "c", "e2"), edge("a", "c", "e2")],
    };
    const problems = graphProblems(bad);
    expect(problems.some((p) => p.includes("Two nodes have the id “a”"))).toBe(true);
    expect(problems.some((p) => p.includes("no name"))).toBe(true);
    expect(problems.some((p) => p.includes("missing node “ghost”"))).toBe(true);
    expect(problems.some((p) => p.includes("Two connections have the id “e2”"))).toBe(true);
    expect(problems.some((p) => p.includes("duplicates a → c"))).toBe(true);
    expect(graphProblems({ nodes: [node("a"), node("b")], edges: [edge("a", "b")] })).toEqual([]);
  });

  it("lists versions newest first", () => {
    const v = (n: number) => ({ version: n }) as WorkflowVersion;
    expect(newestFirst([v(1), v(3), v(2)]).map((x) => x.version)).toEqual([3, 2, 1]);
    expect(newestFirst(null)).toEqual([]);
  });
});
