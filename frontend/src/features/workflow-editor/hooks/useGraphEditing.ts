import { useCallback, useMemo, useState, type MutableRefObject } from "react";
import type { Connection, NodeMouseHandler } from "@xyflow/react";
import {
  addNode,
  canConnect,
  checkName,
  connect,
  removeElements,
  updateNodeData,
  type FlowGraph,
  type NodeStatus,
  type WfFlowNode,
} from "../graph";
import type { NodeEditing } from "../components/nodeEditing";
import type { CenterGetter } from "../components/WorkflowCanvas";

interface Options {
  /** The draft graph on screen. */
  flow: FlowGraph;
  /** Applies a change to the draft. */
  edit: (change: (graph: FlowGraph) => FlowGraph) => void;
  /** Operators on the current draft (not a past version). */
  editable: boolean;
  centerRef: MutableRefObject<CenterGetter | null>;
  fitView: (noZoomIn?: boolean) => void;
}

/** The draft's editing actions: add, rename (in place too), status, connect, remove. */
export function useGraphEditing({ flow, edit, editable, centerRef, fitView }: Options) {
  const [editingId, setEditingId] = useState<string | null>(null);

  const onAdd = (name: string) => {
    // In the middle of what is on screen, selected, so it can be renamed or connected next.
    const center = centerRef.current?.() ?? null;
    const { graph, id } = addNode(flow, name, center);
    edit(() => ({
      ...graph,
      nodes: graph.nodes.map((n) => (!!n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })),
    }));
    // Pushed aside by nodes in the middle: it may be off screen, so show everything.
    const at = graph.nodes.find((n) => n.id === id)!.position;
    if (!center || at.x !== Math.round(center.x)) fitView(true);
  };
  const rename = useCallback((id: string, name: string) => edit((g) => updateNodeData(g, id, { name })), [edit]);
  const setStatus = (id: string, status: NodeStatus) => edit((g) => updateNodeData(g, id, { status }));
  const link = (source: string, target: string) => edit((g) => connect(g, source, target));
  const remove = (nodeIds: string[], edgeIds: string[]) => edit((g) => removeElements(g, nodeIds, edgeIds));
  const onConnect = (c: Connection) => link(c.source, c.target);
  const edges = flow.edges;
  const isValidConnection = useCallback(
    (c: { source: string; target: string }) => canConnect(edges, c.source, c.target),
    [edges],
  );
  const onNodeDoubleClick: NodeMouseHandler<WfFlowNode> = (_, node) => {
    if (editable) setEditingId(node.id);
  };
  const nodeEditing = useMemo<NodeEditing>(
    () => ({
      editable,
      editingId,
      finishRename: (id, name) => {
        setEditingId(null);
        if (name === null) return;
        const checked = checkName(name);
        if ("name" in checked) rename(id, checked.name);
      },
    }),
    [editable, editingId, rename],
  );

  return { onAdd, rename, setStatus, link, remove, onConnect, isValidConnection, onNodeDoubleClick, nodeEditing };
}

export type GraphEditing = ReturnType<typeof useGraphEditing>;
