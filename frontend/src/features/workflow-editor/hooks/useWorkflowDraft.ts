import { useCallback, useMemo, useState } from "react";
import { fromFlow, graphSignature, positionsOf, toFlow, type FlowGraph, type Graph } from "../graph";

interface DraftState {
  graph: FlowGraph;
  /** The signature of what was last loaded or saved: the draft is dirty when it differs. */
  baseline: string;
  /** The server version the draft is based on; null until the first load. */
  version: number | null;
}

const EMPTY: DraftState = { graph: { nodes: [], edges: [] }, baseline: "", version: null };

/** The local, unsaved copy of the graph the user edits; "Save version" sends it. */
export function useWorkflowDraft() {
  const [state, setState] = useState<DraftState>(EMPTY);
  const graph = useMemo(() => fromFlow(state.graph.nodes, state.graph.edges), [state.graph]);
  const signature = useMemo(() => graphSignature(graph), [graph]);
  const dirty = state.version !== null && signature !== state.baseline;

  /** Replaces the draft with a server graph; `keepPositions` keeps unplaced nodes where they are on screen. */
  const load = useCallback((next: Graph, version: number, { keepPositions = false } = {}) => {
    setState((s) => {
      const selected = new Set(s.graph.nodes.filter((n) => n.selected).map((n) => n.id));
      const flow = toFlow(next, keepPositions ? positionsOf(s.graph.nodes) : undefined);
      const nodes = flow.nodes.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n));
      return { graph: { nodes, edges: flow.edges }, baseline: graphSignature(fromFlow(nodes, flow.edges)), version };
    });
  }, []);

  /** After a save: the draft as sent (`sentSignature`) is now `version` on the server. */
  const markSaved = useCallback((version: number, sentSignature: string) => {
    setState((s) => ({ ...s, version, baseline: sentSignature }));
  }, []);

  /** Every change to the draft (React Flow's own changes too: the canvas applies them through this). */
  const edit = useCallback((change: (graph: FlowGraph) => FlowGraph) => {
    setState((s) => ({ ...s, graph: change(s.graph) }));
  }, []);

  return {
    flow: state.graph,
    graph,
    signature,
    version: state.version,
    dirty,
    load,
    markSaved,
    edit,
  };
}

export type WorkflowDraft = ReturnType<typeof useWorkflowDraft>;
