import { Badge } from "../../../components/ui/Badge";
import { ErrorText } from "../../../components/ui/QueryState";
import { relativeTime, truncate } from "../../../lib/format";
import { RUN_ACTIONS, useControlRun, type Run } from "../queries";

export function RunItem({ run, canControl }: { run: Run; canControl: boolean }) {
  const control = useControlRun();
  // The server says which transitions are possible now; offer only those.
  const allowed = RUN_ACTIONS.filter((a) => run.allowed_actions.includes(a));
  return (
    <li className="run">
      <div className="row spread">
        <span>
          <Badge value={run.status} /> <strong>{run.agent_id}</strong>{" "}
          <span className="muted small">{relativeTime(run.updated_at)}</span>
        </span>
        {canControl && allowed.length > 0 && (
          <span className="row">
            {allowed.map((action) => (
              <button
                key={action}
                type="button"
                className={action === "cancel" ? "danger small-btn" : "secondary small-btn"}
                disabled={control.isPending}
                onClick={() => control.mutate({ runId: run.run_id, action })}
              >
                {action[0].toUpperCase() + action.slice(1)}
              </button>
            ))}
          </span>
        )}
      </div>
      <p className="small">{truncate(run.input, 120) || <span className="muted">({run.kind})</span>}</p>
      {run.last_error && <p className="error small">{run.last_error}</p>}
      <p className="muted small">
        <code>{run.run_id}</code>
        {run.parent_run_id && (
          <>
            {" "}
            · child of <code>{run.parent_run_id}</code>
          </>
        )}
      </p>
      <ErrorText error={control.error} />
    </li>
  );
}
