import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { ErrorText } from "../../../components/ui/QueryState";
import { useDeleteAgent, type Agent } from "../queries";

/** Deleting asks once more; the API refuses a running agent or one with an unfinished run. */
export function DeleteAgent({ agent }: { agent: Agent }) {
  const remove = useDeleteAgent();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const running = agent.status === "running";

  if (!confirming) {
    return (
      <div className="stack compact">
        <p className="muted small">
          {running
            ? "Stop the agent before deleting it."
            : "Removes the agent and its workspace; its events and runs stay as history."}
        </p>
        <div className="row">
          <button type="button" className="danger" disabled={running} onClick={() => setConfirming(true)}>
            Delete agent…
          </button>
        </div>
      </div>
    );
  }

  return (
    <div className="stack compact" role="group" aria-label="Confirm deletion">
      <p>
        Delete <strong>{agent.name}</strong> and its workspace files? This cannot be undone.
      </p>
      <div className="row">
        <button
          type="button"
          className="danger"
          disabled={remove.isPending}
          onClick={() => remove.mutate(agent.id, { onSuccess: () => navigate("/", { replace: true }) })}
        >
          {remove.isPending ? "Deleting…" : `Delete ${agent.name}`}
        </button>
        <button type="button" className="secondary" onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </div>
      <ErrorText error={remove.error} />
    </div>
  );
}
