import { Link } from "react-router-dom";
import { Badge } from "../../../components/ui/Badge";
import { statusExplanation } from "../controls";
import { dateTime, elapsed, formatDuration } from "../format";
import { useNow } from "../hooks/useNow";
import type { Run } from "../queries";
import { RunControls } from "./RunControls";

/** The run at a glance: status (rejected is not completed), kind, agent, times, what it was asked. */
export function RunHeader({ run }: { run: Run }) {
  const explanation = statusExplanation(run.status);
  const now = useNow(!run.finished_at);
  const took = run.duration_s ?? elapsed(run.created_at, run.finished_at, now);
  return (
    <section className={`panel run-header run-status-${run.status}`} aria-label="Run summary">
      <div className="panel-body">
        <div className="row spread">
          <h1 className="row run-title">
            <span>Run</span> <code>{run.run_id}</code> <Badge value={run.status} />
          </h1>
          <RunControls run={run} />
        </div>
        {explanation && (
          <p className="small run-explanation" data-testid="run-explanation">
            {explanation}
          </p>
        )}
        <dl className="run-facts">
          <dt>Agent</dt>
          <dd>
            <Link to={`/agent/${encodeURIComponent(run.agent_id)}`}>{run.agent_id}</Link>
          </dd>
          <dt>Kind</dt>
          <dd>{run.kind}</dd>
          <dt>Created</dt>
          <dd>{dateTime(run.created_at)}</dd>
          <dt>Started</dt>
          <dd>{run.started_at ? dateTime(run.started_at) : "not yet"}</dd>
          <dt>Finished</dt>
          <dd>{run.finished_at ? dateTime(run.finished_at) : "not yet"}</dd>
          <dt>Duration</dt>
          <dd data-testid="run-duration">
            {run.finished_at ? formatDuration(took) : `${formatDuration(took)} so far`}
          </dd>
        </dl>
        {run.input && (
          <p className="run-input">
            <span className="muted small">Asked: </span>
            {run.input}
          </p>
        )}
        {run.reply && (
          <p className="run-reply">
            <span className="muted small">Reply: </span>
            {run.reply}
          </p>
        )}
        {run.last_error && (
          <p className="error" role="alert">
            {run.last_error}
          </p>
        )}
      </div>
    </section>
  );
}
