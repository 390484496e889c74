import { Link } from "react-router-dom";
import { Badge } from "../../../components/ui/Badge";
import { relativeTime, truncate } from "../../../lib/format";
import { elapsed, formatDuration } from "../format";
import type { Run } from "../queries";

/** One run as a link to its page: status, agent, kind, what it was asked, when and how long. */
export function RunRow({ run, compact = false }: { run: Run; compact?: boolean }) {
  const took = run.duration_s ?? elapsed(run.created_at, run.finished_at);
  return (
    <li className={`run-row${compact ? " compact" : ""}`}>
      <Link to={`/runs/${encodeURIComponent(run.run_id)}`} className="run-link" aria-label={`Run ${run.run_id}`}>
        <span className="row spread">
          <span className="row">
            <Badge value={run.status} />
            <strong>{run.agent_id}</strong>
            <span className="muted small">{run.kind}</span>
          </span>
          <span className="muted small">
            <time dateTime={run.created_at} title={new Date(run.created_at).toLocaleString()}>
              {relativeTime(run.created_at)}
            </time>
            {run.finished_at && <> · {formatDuration(took)}</>}
          </span>
        </span>
        <span className="small run-input">
          {truncate(run.input, compact ? 80 : 160) || <span className="muted">({run.kind})</span>}
        </span>
        {!compact && run.last_error && <span className="error small">{truncate(run.last_error, 160)}</span>}
        {!compact && (
          <span className="muted small">
            <code>{run.run_id}</code>
            {run.parent_run_id && (
              <>
                {" "}
                · child of <code>{run.parent_run_id}</code>
              </>
            )}
          </span>
        )}
      </Link>
    </li>
  );
}
