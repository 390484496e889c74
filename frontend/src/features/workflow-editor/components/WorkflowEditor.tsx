import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useBlocker, type BlockerFunction } from "react-router-dom";
import type { Connection, NodeMouseHandler } from "@xyflow/react";
import { Panel } from "../../../components/ui/Panel";
import { ErrorText, QueryState } from "../../../components/ui/QueryState";
import { useCan } from "../../auth/session";
import { useEventStream } from "../../events/hooks/useEventStream";
import {
  addNode,
  buildRestoreBody,
  buildSaveBody,
  canConnect,
  checkName,
  connect,
  graphProblems,
  markNew,
  newNodeIds,
  removeElements,
  toFlow,
  updateNodeData,
  type NodeStatus,
  type WfFlowNode,
  type Workflow,
  type WorkflowVersion,
} from "../graph";
import { useFreshNodes } from "../hooks/useFreshNodes";
import { useWorkflowDraft } from "../hooks/useWorkflowDraft";
import { useWorkflowLiveRefresh } from "../hooks/useWorkflowLiveRefresh";
import { useSaveWorkflow, useWorkflow, type WorkflowTarget } from "../queries";
import { AddNodeForm } from "./AddNodeForm";
import { ConfirmDialog, type Confirmation } from "./ConfirmDialog";
import { NodeEditingContext, type NodeEditing } from "./nodeEditing";
import { SaveVersionForm } from "./SaveVersionForm";
import { SelectionPanel } from "./SelectionPanel";
import { StatusLegend } from "./StatusLegend";
import { VersionHistory } from "./VersionHistory";
import type { CenterGetter, ViewRequest } from "./WorkflowCanvas";
import { WorkflowPicker } from "./WorkflowPicker";

// React Flow is the biggest part of this page: loaded only when a graph is shown.
const WorkflowCanvas = lazy(() => import("./WorkflowCanvas").then((m) => ({ default: m.WorkflowCanvas })));

const STREAM_TEXT = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" } as const;

const idsOf = (workflow: Pick<Workflow, "nodes">) => new Set(workflow.nodes.map((n) => n.id));

interface Props {
  target: WorkflowTarget | null;
  onChoose: (target: WorkflowTarget | null) => void;
}

/** One workflow (the page remounts this per target): the graph, the local draft, live updates, history. */
export function WorkflowEditor({ target, onChoose }: Props) {
  const canEdit = useCan("operate");
  const { status: streamStatus } = useEventStream();
  const query = useWorkflow(target);
  const workflow = query.data;
  const draft = useWorkflowDraft();
  const { load, dirty, version, edit } = draft;
  const save = useSaveWorkflow();
  const restore = useSaveWorkflow();
  const { fresh, mark } = useFreshNodes();
  /** Node ids of the last server version seen: what is not in here when a new one arrives is "new". */
  const known = useRef<Set<string> | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const [restoring, setRestoring] = useState<number | null>(null);
  const [confirmation, setConfirmation] = useState<Confirmation | null>(null);
  const [editingId, setEditingId] = useState<string | null>(null);
  const [liveNote, setLiveNote] = useState<string | null>(null);
  const [view, setView] = useState<ViewRequest | null>(null);
  const viewSeq = useRef(0);
  const fitView = useCallback((noZoomIn = false) => {
    viewSeq.current += 1;
    setView({ seq: viewSeq.current, noZoomIn });
  }, []);
  const viewCenter = useRef<CenterGetter | null>(null);

  // A newer server version replaces the draft, unless it holds unsaved changes (a notice offers it then).
  useEffect(() => {
    if (!workflow || (version !== null && workflow.version <= version) || dirty) return;
    const added = newNodeIds(known.current, workflow.nodes);
    known.current = idsOf(workflow);
    load(workflow, workflow.version, { keepPositions: true });
    if (added.length) {
      mark(added);
      fitView();
    }
  }, [workflow, version, dirty, load, mark, fitView]);

  useWorkflowLiveRefresh(workflow, (event) => {
    setLiveNote(event.message || event.type);
    void query.refetch({ cancelRefetch: false });
  });

  // Warn before unsaved changes are lost: leaving the page, or picking another workflow.
  const shouldBlock = useCallback<BlockerFunction>(
    ({ currentLocation, nextLocation }) =>
      dirty && (currentLocation.pathname !== nextLocation.pathname || currentLocation.search !== nextLocation.search),
    [dirty],
  );
  const blocker = useBlocker(shouldBlock);
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const editable = canEdit && viewing === null;
  const problems = useMemo(() => graphProblems(draft.graph), [draft.graph]);

  // ---- editing -------------------------------------------------------------------------
  const onAdd = (name: string) => {
    // In the middle of what is on screen, selected, so it can be renamed or connected next.
    const center = viewCenter.current?.() ?? null;
    const { graph, id } = addNode(draft.flow, name, center);
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
  const edges = draft.flow.edges;
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

  // ---- saving --------------------------------------------------------------------------
  const onSave = (note: string, saved: () => void) => {
    if (!workflow) return;
    const sent = draft.signature;
    save.mutate(buildSaveBody(workflow, draft.graph, note), {
      onSuccess: (result) => {
        known.current = idsOf(result);
        draft.markSaved(result.version, sent);
        saved();
      },
    });
  };

  const reload = (next: Workflow, { highlight }: { highlight: boolean }) => {
    const added = highlight ? newNodeIds(known.current, next.nodes) : [];
    known.current = idsOf(next);
    load(next, next.version);
    mark(added);
  };

  const onDiscard = () =>
    setConfirmation({
      message: `Discard your unsaved changes? The graph goes back to version ${workflow?.version ?? ""}.`,
      confirmLabel: "Yes, discard",
      onConfirm: () => workflow && reload(workflow, { highlight: false }),
    });

  const doRestore = (v: WorkflowVersion) => {
    if (!workflow) return;
    setRestoring(v.version);
    restore.mutate(buildRestoreBody(workflow, v), {
      onSuccess: (result) => {
        setViewing(null);
        reload(result, { highlight: false });
        fitView();
      },
      onSettled: () => setRestoring(null),
    });
  };
  const onRestore = (v: WorkflowVersion) => {
    if (!dirty) return doRestore(v);
    setConfirmation({
      message: `Restoring version ${v.version} throws away your unsaved changes. Restore it anyway?`,
      confirmLabel: `Discard and restore v${v.version}`,
      onConfirm: () => doRestore(v),
    });
  };

  // ---- what the graph shows --------------------------------------------------------------
  const viewed = viewing !== null ? (workflow?.versions?.find((v) => v.version === viewing) ?? null) : null;
  const viewedFlow = useMemo(() => (viewed ? toFlow(viewed) : null), [viewed]);
  const shownNodes = useMemo(() => markNew(draft.flow.nodes, fresh), [draft.flow.nodes, fresh]);
  const shownEdges = useMemo(
    () =>
      fresh.size === 0
        ? draft.flow.edges
        : draft.flow.edges.map((e) => (fresh.has(e.source) || fresh.has(e.target) ? { ...e, animated: true } : e)),
    [draft.flow.edges, fresh],
  );
  const behind = !!workflow && version !== null && workflow.version > version && dirty;

  return (
    <div className={`wf-page${workflow ? "" : " wf-page-single"}`}>
      <div className="wf-main">
        <Panel title="Workflow Editor" id="workflow-editor">
          <WorkflowPicker target={target} canCreate={canEdit} onChoose={onChoose} />
          {blocker.state === "blocked" && (
            <ConfirmDialog
              confirmation={{
                message: "This workflow has unsaved changes. Leave it and throw them away?",
                confirmLabel: "Leave without saving",
                onConfirm: () => blocker.proceed(),
                onCancel: () => blocker.reset(),
              }}
              onClose={() => undefined}
            />
          )}
          {confirmation && <ConfirmDialog confirmation={confirmation} onClose={() => setConfirmation(null)} />}
          {!target ? (
            <p className="muted" data-testid="workflow-empty">
              Choose an agent's workflow or a standalone workflow above to see it as a graph
              {canEdit ? ", or start a new workflow" : ""}.
            </p>
          ) : (
            <QueryState
              isPending={query.isPending}
              error={workflow ? null : query.error}
              onRetry={() => void query.refetch()}
              loading="Loading the workflow…"
            >
              {workflow && (
                <div className="stack compact">
                  <div className="row spread wf-info">
                    <div className="row">
                      <h3 className="wf-title" data-testid="workflow-name">
                        {workflow.name}
                      </h3>
                      <span className="badge" data-testid="workflow-version">
                        v{workflow.version}
                      </span>
                      {workflow.agent_id && (
                        <Link className="small" to={`/?agent=${encodeURIComponent(workflow.agent_id)}`}>
                          Open agent
                        </Link>
                      )}
                    </div>
                    <div className="row">
                      {canEdit && (
                        <span className={dirty ? "wf-dirty" : "muted small"} data-testid="workflow-dirty">
                          {dirty ? "Unsaved changes" : "No unsaved changes"}
                        </span>
                      )}
                      <span className={`stream-status stream-${streamStatus}`} role="status">
                        {STREAM_TEXT[streamStatus]}
                      </span>
                    </div>
                  </div>
                  {liveNote && (
                    <p className="small muted" data-testid="workflow-live-note" aria-live="polite">
                      Updated live: {liveNote}
                    </p>
                  )}
                  <StatusLegend />
                  <ErrorText error={query.isError ? query.error : null} onRetry={() => void query.refetch()} />
                  {behind && (
                    <div className="notice row spread" role="alert">
                      <span>
                        Version {workflow.version} arrived while you were editing; your changes are based on version{" "}
                        {version}. Saving makes yours the newest version.
                      </span>
                      <button type="button" className="secondary" onClick={() => reload(workflow, { highlight: true })}>
                        Load version {workflow.version} (drop my changes)
                      </button>
                    </div>
                  )}
                  {viewing !== null && (
                    <div className="notice row spread wf-viewing" role="status">
                      <span>
                        {viewed ? `Viewing version ${viewing} (read-only).` : `Version ${viewing} is no longer listed.`}
                      </span>
                      <button type="button" className="secondary" onClick={() => setViewing(null)}>
                        Back to current
                      </button>
                    </div>
                  )}
                  {editable && (
                    <div className="wf-toolbar">
                      <AddNodeForm onAdd={onAdd} />
                      <SaveVersionForm
                        dirty={dirty}
                        saving={save.isPending}
                        problems={dirty ? problems : []}
                        error={save.error}
                        onSave={onSave}
                        onDiscard={onDiscard}
                      />
                    </div>
                  )}
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
                    ) : version === null ? (
                      <p className="muted" role="status">
                        Drawing the graph…
                      </p>
                    ) : (
                      <NodeEditingContext.Provider value={nodeEditing}>
                        <WorkflowCanvas
                          key="draft"
                          nodes={shownNodes}
                          edges={shownEdges}
                          editable={editable}
                          onEdit={edit}
                          onConnect={onConnect}
                          isValidConnection={isValidConnection}
                          onNodeDoubleClick={onNodeDoubleClick}
                          view={view}
                          centerRef={viewCenter}
                          label={editable ? "Workflow graph (editable)" : "Workflow graph"}
                        />
                      </NodeEditingContext.Provider>
                    )}
                  </Suspense>
                  {version !== null && !viewedFlow && draft.flow.nodes.length === 0 && (
                    <p className="muted small" data-testid="workflow-graph-empty">
                      No nodes yet. {canEdit ? "Add one above" : "They appear here"}
                      {workflow.agent_id ? "; the agent's workflow patches also appear here live." : "."}
                    </p>
                  )}
                </div>
              )}
            </QueryState>
          )}
        </Panel>
      </div>
      {workflow && (
        <aside className="wf-side" aria-label="Workflow details">
          {viewing === null && (
            <SelectionPanel
              flow={draft.flow}
              editable={editable}
              onRename={rename}
              onStatus={setStatus}
              onConnect={link}
              onRemove={remove}
            />
          )}
          <VersionHistory
            versions={workflow.versions}
            current={workflow.version}
            viewing={viewing}
            canRestore={canEdit}
            restoring={restoring}
            error={restore.error}
            onView={setViewing}
            onRestore={onRestore}
          />
        </aside>
      )}
    </div>
  );
}
