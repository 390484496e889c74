import { lazy, Suspense, useMemo, type MutableRefObject } from "react";
import { markNew, toFlow, type FlowGraph, type WorkflowVersion } from "../graph";
import type { GraphEditing } from "../hooks/useGraphEditing";
import { NodeEditingContext } from "./nodeEditing";
import type { CenterGetter, ViewRequest } from "./WorkflowCanvas";

// React Flow is the biggest part of this page: loaded only when a graph is shown.
const WorkflowCanvas = lazy(() => import("./WorkflowCanvas").then((m) => ({ default: m.WorkflowCanvas })));

interface Props {
  /** The draft graph, and the server version it is based on (null until the first load). */
  flow: FlowGraph;
  draftVersion: number | null;
  /** Nodes that just arrived live: highlighted, their edges animated. */
  fresh: ReadonlySet<string>;
  /** The past version shown instead of the draft (read-only), if any. */
  viewing: number | null;
  viewed: WorkflowVersion | null;
  editable: boolean;
  canEdit: boolean;
  editing: GraphEditing;
  onEdit: (change: (graph: FlowGraph) => FlowGraph) => void;
  view: ViewRequest | null;
  centerRef: MutableRefObject<CenterGetter | null>;
  /** The workflow belongs to an agent (its patches appear live). */
  agentWorkflow: boolean;
}

/** The canvas: the draft (editable for operators) or a past version, and a word when there are no nodes. */
export function WorkflowGraph({
  flow,
  draftVersion,
  fresh,
  viewing,
  viewed,
  editable,
  canEdit,
  editing,
  onEdit,
  view,
  centerRef,
  agentWorkflow,
}: Props) {
  const viewedFlow = useMemo(() => (viewed ? toFlow(viewed) : null), [viewed]);
  const shownNodes = useMemo(() => markNew(flow.nodes, fresh), [flow.nodes, fresh]);
  const shownEdges = useMemo(
    () =>
      fresh.size === 0
        ? flow.edges
        : flow.edges.map((e) => (fresh.has(e.source) || fresh.has(e.target) ? { ...e, animated: true } : e)),
    [flow.edges, fresh],
  );

  return (
    <>
      <Suspense
        fallback={
          <p className="muted" role="status">
            Loading the graph…
          </p>
        }
      >
        {viewedFlow ? (
          <WorkflowCanvas
            key={`v${viewing}`}
            nodes={viewedFlow.nodes}
            edges={viewedFlow.edges}
            editable={false}
            frozen
            label={`Workflow graph, version ${viewing} (read-only)`}
          />
        ) : draftVersion === null ? (
          <p className="muted" role="status">
            Drawing the graph…
          </p>
        ) : (
          <NodeEditingContext.Provider value={editing.nodeEditing}>
            <WorkflowCanvas
              key="draft"
              nodes={shownNodes}
              edges={shownEdges}
              editable={editable}
              onEdit={onEdit}
              onConnect={editing.onConnect}
              isValidConnection={editing.isValidConnection}
              onNodeDoubleClick={editing.onNodeDoubleClick}
              view={view}
              centerRef={centerRef}
              label={editable ? "Workflow graph (editable)" : "Workflow graph"}
            />
          </NodeEditingContext.Provider>
        )}
      </Suspense>
      {draftVersion !== null && !viewedFlow && flow.nodes.length === 0 && (
        <p className="muted small" data-testid="workflow-graph-empty">
          No nodes yet. {canEdit ? "Add one above" : "They appear here"}
          {agentWorkflow ? "; the agent's workflow patches also appear here live." : "."}
        </p>
      )}
    </>
  );
}
