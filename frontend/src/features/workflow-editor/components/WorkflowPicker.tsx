import { useState, type FormEvent } from "react";
import { ErrorText } from "../../../components/ui/QueryState";
import { useAgents } from "../../agents/queries";
import { parseTargetValue, targetValue, useSaveWorkflow, useWorkflows, type WorkflowTarget } from "../queries";

interface Props {
  target: WorkflowTarget | null;
  canCreate: boolean;
  onChoose: (target: WorkflowTarget | null) => void;
}

/** Which workflow to show: an agent's own, or a standalone one; operators can start a new one. */
export function WorkflowPicker({ target, canCreate, onChoose }: Props) {
  const agents = useAgents();
  const workflows = useWorkflows();
  const [creating, setCreating] = useState(false);
  const value = targetValue(target);
  const listed = new Set([
    ...(agents.data ?? []).map((a) => `agent:${a.id}`),
    ...(workflows.data ?? []).map((w) => `workflow:${w.id}`),
  ]);

  return (
    <div className="stack compact wf-picker">
      <div className="row">
        <label htmlFor="workflow-select">Show workflow</label>
        <select
          id="workflow-select"
          data-testid="workflow-select"
          value={value}
          onChange={(e) => onChoose(parseTargetValue(e.target.value))}
        >
          <option value="">Choose a workflow…</option>
          {target && !listed.has(value) && (
            <option value={value}>{target.kind === "agent" ? `Agent ${target.id}` : target.id}</option>
          )}
          <optgroup label="Agents' workflows">
            {agents.data?.map((a) => (
              <option key={a.id} value={`agent:${a.id}`} title={a.id}>
                {a.name}
              </option>
            ))}
          </optgroup>
          <optgroup label="Standalone workflows">
            {workflows.data?.map((w) => (
              <option key={w.id} value={`workflow:${w.id}`} title={w.id}>
                {w.name}
              </option>
            ))}
          </optgroup>
        </select>
        {(agents.isPending || workflows.isPending) && (
          <span className="muted small" role="status">
            Loading the list…
          </span>
        )}
        {canCreate && !creating && (
          <button type="button" className="secondary" onClick={() => setCreating(true)}>
            New workflow
          </button>
        )}
      </div>
      <ErrorText error={agents.error} onRetry={() => void agents.refetch()} />
      <ErrorText error={workflows.error} onRetry={() => void workflows.refetch()} />
      {creating && (
        <NewWorkflowForm
          onCancel={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            onChoose({ kind: "workflow", id });
          }}
        />
      )}
    </div>
  );
}

function NewWorkflowForm({ onCreated, onCancel }: { onCreated: (id: string) => void; onCancel: () => void }) {
  const save = useSaveWorkflow();
  const [name, setName] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    save.mutate(
      { name: name.trim(), nodes: [], edges: [], note: "created" },
      { onSuccess: (workflow) => onCreated(workflow.id) },
    );
  };
  return (
    <form className="stack compact" onSubmit={submit} aria-label="New workflow">
      <div className="row">
        <input
          aria-label="New workflow name"
          placeholder="New workflow name"
          value={name}
          maxLength={200}
          autoFocus
          onChange={(e) => setName(e.target.value)}
          required
        />
        <button type="submit" disabled={save.isPending || !name.trim()}>
          {save.isPending ? "Creating…" : "Create"}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorText error={save.error} />
    </form>
  );
}
