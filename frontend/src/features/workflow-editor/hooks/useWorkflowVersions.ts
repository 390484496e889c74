import { useEffect, useRef, useState } from "react";
import { buildRestoreBody, buildSaveBody, newNodeIds, type Workflow, type WorkflowVersion } from "../graph";
import { runStateSignature } from "../live";
import type { Confirmation } from "../components/ConfirmDialog";
import { useSaveWorkflow } from "../queries";
import type { WorkflowDraft } from "./useWorkflowDraft";

const idsOf = (workflow: Pick<Workflow, "nodes">) => new Set(workflow.nodes.map((n) => n.id));

interface Options {
  /** The server's workflow (undefined while loading). */
  workflow: Workflow | undefined;
  draft: WorkflowDraft;
  /** Highlights nodes that arrived from the server. */
  mark: (ids: readonly string[]) => void;
  fitView: (noZoomIn?: boolean) => void;
  /** Asks before something is thrown away. */
  confirm: (confirmation: Confirmation) => void;
}

/**
 * The draft against the server's versions: newer versions replace a clean draft, "Save version",
 * discarding, viewing a past version and restoring it.
 */
export function useWorkflowVersions({ workflow, draft, mark, fitView, confirm }: Options) {
  const { load, dirty, version } = draft;
  const save = useSaveWorkflow();
  const restore = useSaveWorkflow();
  /** Node ids of the last server version seen: what is not in here when a new one arrives is "new". */
  const known = useRef<Set<string> | null>(null);
  const [viewing, setViewing] = useState<number | null>(null);
  const [restoring, setRestoring] = useState<number | null>(null);

  // A newer server version replaces the draft, unless it holds unsaved changes (a notice offers it then).
  // So does the same version whose nodes' run status changed (a run moved on), into a clean draft.
  useEffect(() => {
    if (!workflow || dirty) return;
    if (version !== null && workflow.version === version) {
      if (runStateSignature(workflow.nodes) !== runStateSignature(draft.flow.nodes.map((n) => n.data.node)))
        load(workflow, workflow.version, { keepPositions: true });
      return;
    }
    if (version !== null && workflow.version < version) return;
    const added = newNodeIds(known.current, workflow.nodes);
    known.current = idsOf(workflow);
    load(workflow, workflow.version, { keepPositions: true });
    if (added.length) {
      mark(added);
      fitView();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the draft's nodes are compared, not watched
  }, [workflow, version, dirty, load, mark, fitView]);

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
    confirm({
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
    confirm({
      message: `Restoring version ${v.version} throws away your unsaved changes. Restore it anyway?`,
      confirmLabel: `Discard and restore v${v.version}`,
      onConfirm: () => doRestore(v),
    });
  };

  /** A newer server version arrived while the draft has unsaved changes. */
  const behind = !!workflow && version !== null && workflow.version > version && dirty;

  return { save, restore, viewing, setViewing, restoring, behind, onSave, reload, onDiscard, onRestore };
}
