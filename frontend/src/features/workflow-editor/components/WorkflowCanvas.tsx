import { useCallback, useEffect, useRef, type MutableRefObject } from "react";
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
  type NodeMouseHandler,
  type ReactFlowInstance,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { LAYOUT, type FlowGraph, type Point, type WfFlowEdge, type WfFlowNode } from "../graph";
import { WorkflowNodeView } from "./WorkflowNodeView";

const nodeTypes = { workflow: WorkflowNodeView };
const defaultEdgeOptions = { markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 } };
const DELETE_KEYS = ["Delete", "Backspace"];

/** Ask the canvas to fit every node into view (a new `seq` each time); `noZoomIn` keeps it from zooming in. */
export type ViewRequest = { seq: number; noZoomIn?: boolean };
/** Where a node placed at the centre of the visible canvas would have its top-left corner. */
export type CenterGetter = () => Point | null;

interface Props {
  nodes: WfFlowNode[];
  edges: WfFlowEdge[];
  /** Operators on the current draft: drag, connect, delete. */
  editable: boolean;
  /** A past version: nothing can be selected or changed. */
  frozen?: boolean;
  /** Applies React Flow's changes (moves, selection, deletions, sizes) to the draft; none = nothing changes. */
  onEdit?: (change: (graph: FlowGraph) => FlowGraph) => void;
  onConnect?: (connection: Connection) => void;
  isValidConnection?: (connection: Connection | WfFlowEdge) => boolean;
  onNodeDoubleClick?: NodeMouseHandler<WfFlowNode>;
  view?: ViewRequest | null;
  centerRef?: MutableRefObject<CenterGetter | null>;
  label: string;
}

export function WorkflowCanvas({ editable, frozen = false, view, centerRef, label, onEdit, ...flow }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const onNodesChange = useCallback(
    (changes: NodeChange<WfFlowNode>[]) => onEdit?.((g) => ({ ...g, nodes: applyNodeChanges(changes, g.nodes) })),
    [onEdit],
  );
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => onEdit?.((g) => ({ ...g, edges: applyEdgeChanges(changes, g.edges) })),
    [onEdit],
  );
  const instance = useRef<ReactFlowInstance<WfFlowNode, WfFlowEdge> | null>(null);
  useEffect(() => {
    if (!centerRef) return;
    centerRef.current = () => {
      const el = box.current;
      if (!el || !instance.current) return null;
      const r = el.getBoundingClientRect();
      const p = instance.current.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
      return { x: p.x - LAYOUT.nodeWidth / 2, y: p.y - LAYOUT.nodeHeight / 2 };
    };
    return () => {
      centerRef.current = null;
    };
  }, [centerRef]);

  return (
    <div
      ref={box}
      className={`wf-canvas${frozen ? " wf-canvas-frozen" : ""}`}
      data-testid="workflow-graph"
      aria-label={label}
      role="region"
    >
      <ReactFlow
        {...flow}
        onNodesChange={onEdit ? onNodesChange : undefined}
        onEdgesChange={onEdit ? onEdgesChange : undefined}
        onInit={(rf) => {
          instance.current = rf;
        }}
        nodeTypes={nodeTypes}
        defaultEdgeOptions={defaultEdgeOptions}
        nodesDraggable={editable}
        nodesConnectable={editable}
        elementsSelectable={!frozen}
        edgesFocusable={!frozen}
        nodesFocusable={!frozen}
        deleteKeyCode={editable ? DELETE_KEYS : null}
        zoomOnDoubleClick={false}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
        minZoom={0.1}
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
        <ViewControl request={view ?? null} />
      </ReactFlow>
    </div>
  );
}

function ViewControl({ request }: { request: ViewRequest | null }) {
  const flow = useReactFlow();
  useEffect(() => {
    if (!request) return;
    // Let React Flow take in (and measure) the nodes of this render first.
    const maxZoom = request.noZoomIn ? Math.min(1.2, flow.getZoom()) : 1.2;
    const timer = setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom, duration: 300 }), 60);
    return () => clearTimeout(timer);
  }, [request, flow]);
  return null;
}
