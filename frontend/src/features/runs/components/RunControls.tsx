import { useState } from "react";
import { ErrorText } from "../../../components/ui/QueryState";
import { useCan } from "../../auth/session";
import { ACTION_HINTS, ACTION_LABELS, runControls, type RunAction } from "../controls";
import { useControlRun, type Run } from "../queries";

/** Pause / resume / cancel as the run's status allows, for those who may operate; viewers see none. */
export function RunControls({ run }: { run: Run }) {
  const canOperate = useCan("operate");
  const control = useControlRun();
  const [confirming, setConfirming] = useState(false);
  const actions = runControls(run.status, run.allowed_actions, canOperate);
  const send = (action: RunAction) => {
    setConfirming(false);
    control.mutate({ runId: run.run_id, action });
  };
  if (actions.length === 0 && !control.error) return null;
  return (
    <div className="run-controls stack compact">
      {confirming && actions.includes("cancel") ? (
        <div className="row" role="group" aria-label="Confirm cancel">
          <span className="small">Cancel this run? A running skill is stopped at once.</span>
          <button type="button" className="danger" onClick={() => send("cancel")}>
            Cancel run
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <div className="row" role="group" aria-label="Run controls">
          {actions.map((action) => (
            <button
              key={action}
              type="button"
              title={ACTION_HINTS[action]}
              className={action === "cancel" ? "danger" : "secondary"}
              disabled={control.isPending}
              onClick={() => (action === "cancel" ? setConfirming(true) : send(action))}
            >
              {action === "cancel" ? "Cancel…" : ACTION_LABELS[action]}
            </button>
          ))}
          {control.isPending && <span className="muted small">Sending…</span>}
        </div>
      )}
      <ErrorText error={control.error} />
    </div>
  );
}
