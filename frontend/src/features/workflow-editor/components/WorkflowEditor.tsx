import { useMemo, useState } from "react";
import { Panel } from "../../../components/ui/Panel";
import { ErrorText, QueryState } from "../../../components/ui/QueryState";
import { useCan } from "../../auth/session";
import { graphProblems } from "../graph";
import { useFreshNodes } from "../hooks/useFreshNodes";
import { useCoalescedRefetch } from "../hooks/useCoalescedRefetch";
import { useGraphEditing } from "../hooks/useGraphEditing";
import { useViewRequests } from "../hooks/useViewRequests";
import { useWorkflowDraft } from "../hooks/useWorkflowDraft";
import { useWorkflowLiveRefresh } from "../hooks/useWorkflowLiveRefresh";
import { useWorkflowVersions } from "../hooks/useWorkflowVersions";
import { useWorkflow, type WorkflowTarget } from "../queries";
import { AddNodeForm } from "./AddNodeForm";
import { ConfirmDialog, type Confirmation } from "./ConfirmDialog";
import { SaveVersionForm } from "./SaveVersionForm";
import { SelectionPanel } from "./SelectionPanel";
import { StatusLegend } from "./StatusLegend";
import { UnsavedChangesGuard } from "./UnsavedChangesGuard";
import { VersionHistory } from "./VersionHistory";
import { WorkflowGraph } from "./WorkflowGraph";
import { WorkflowHeader } from "./WorkflowHeader";
import { NewerVersionNotice, ViewingVersionNotice } from "./WorkflowNotices";
import { WorkflowPicker } from "./WorkflowPicker";

interface Props {
  target: WorkflowTarget | null;
  onChoose: (target: WorkflowTarget | null) => void;
}

/** One workflow (the page remounts this per target): the graph, the local draft, live updates, history. */
export function WorkflowEditor({ target, onChoose }: Props) {
  const canEdit = useCan("operate");
  const query = useWorkflow(target);
  const workflow = query.data;
  const draft = useWorkflowDraft();
  const { dirty, version, edit } = draft;
  const { fresh, mark } = useFreshNodes();
  const { view, fitView, centerRef } = useViewRequests();
  const [confirmation, setConfirmation] = useState<Confirmation | null>(null);
  const [liveNote, setLiveNote] = useState<string | null>(null);
  const versions = useWorkflowVersions({ workflow, draft, mark, fitView, confirm: setConfirmation });
  const { viewing, setViewing } = versions;

  const refresh = useCoalescedRefetch(() => query.refetch({ cancelRefetch: false }));
  useWorkflowLiveRefresh(workflow, (event) => {
    setLiveNote(event.message || event.type);
    refresh();
  });

  const editable = canEdit && viewing === null;
  const editing = useGraphEditing({ flow: draft.flow, edit, editable, centerRef, fitView });
  const problems = useMemo(() => graphProblems(draft.graph), [draft.graph]);
  const viewed = viewing !== null ? (workflow?.versions?.find((v) => v.version === viewing) ?? null) : null;

  return (
    <div className={`wf-page${workflow ? "" : " wf-page-single"}`}>
      <div className="wf-main">
        <Panel title="Workflow Editor" id="workflow-editor">
          <WorkflowPicker target={target} canCreate={canEdit} onChoose={onChoose} />
          <UnsavedChangesGuard dirty={dirty} />
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
                  <WorkflowHeader workflow={workflow} canEdit={canEdit} dirty={dirty} />
                  {liveNote && (
                    <p className="small muted" data-testid="workflow-live-note" aria-live="polite">
                      Updated live: {liveNote}
                    </p>
                  )}
                  <StatusLegend />
                  <ErrorText error={query.isError ? query.error : null} onRetry={() => void query.refetch()} />
                  {versions.behind && (
                    <NewerVersionNotice
                      serverVersion={workflow.version}
                      draftVersion={version}
                      onLoad={() => versions.reload(workflow, { highlight: true })}
                    />
                  )}
                  {viewing !== null && (
                    <ViewingVersionNotice version={viewing} listed={!!viewed} onBack={() => setViewing(null)} />
                  )}
                  {editable && (
                    <div className="wf-toolbar">
                      <AddNodeForm onAdd={editing.onAdd} />
                      <SaveVersionForm
                        dirty={dirty}
                        saving={versions.save.isPending}
                        problems={dirty ? problems : []}
                        error={versions.save.error}
                        onSave={versions.onSave}
                        onDiscard={versions.onDiscard}
                      />
                    </div>
                  )}
                  <WorkflowGraph
                    flow={draft.flow}
                    draftVersion={version}
                    fresh={fresh}
                    viewing={viewing}
                    viewed={viewed}
                    editable={editable}
                    canEdit={canEdit}
                    editing={editing}
                    onEdit={edit}
                    view={view}
                    centerRef={centerRef}
                    agentWorkflow={!!workflow.agent_id}
                  />
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
              onRename={editing.rename}
              onStatus={editing.setStatus}
              onConnect={editing.link}
              onRemove={editing.remove}
            />
          )}
          <VersionHistory
            versions={workflow.versions}
            current={workflow.version}
            viewing={viewing}
            canRestore={canEdit}
            restoring={versions.restoring}
            error={versions.restore.error}
            onView={setViewing}
            onRestore={versions.onRestore}
          />
        </aside>
      )}
    </div>
  );
}
