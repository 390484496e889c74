import { useMemo, useState } from "react";
import { Badge } from "../../../components/ui/Badge";
import { truncate } from "../../../lib/format";
import { formatCount, formatLatency, formatTime, formatUsd, NO_AGENT, type UsageRow } from "../usage";

const PAGE = 25;

/** One `<tr>` per model call, newest first, 25 at a time. */
export function UsageTable({ rows }: { rows: readonly UsageRow[] }) {
  const [shown, setShown] = useState(PAGE);
  const newestFirst = useMemo(() => [...rows].reverse(), [rows]);
  const visible = newestFirst.slice(0, shown);

  return (
    <div className="stack compact">
      <h3 className="ra-subhead">Calls</h3>
      <div className="ra-table-scroll">
        <table className="ra-table ra-usage-table" data-testid="usage-table" aria-label="Usage">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Tenant</th>
              <th scope="col">Agent</th>
              <th scope="col">Model</th>
              <th scope="col" className="ra-num">
                Tokens
              </th>
              <th scope="col" className="ra-num">
                Cost
              </th>
              <th scope="col" className="ra-num">
                Latency
              </th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {visible.map((row) => (
              <tr key={row.id} data-testid="usage-row">
                <td>
                  <time dateTime={row.created_at}>{formatTime(row.created_at)}</time>
                </td>
                <td>{row.tenant_id}</td>
                <td>{row.agent_id ?? <span className="muted">{NO_AGENT}</span>}</td>
                <td>
                  <code>{row.model}</code>
                </td>
                <td
                  className="ra-num"
                  title={`${formatCount(row.prompt_tokens)} in, ${formatCount(row.completion_tokens)} out`}
                >
                  {formatCount(row.tokens)}
                </td>
                <td className="ra-num">{formatUsd(row.cost)}</td>
                <td className="ra-num">{formatLatency(row.latency_ms)}</td>
                <td>
                  <Badge value={row.status} />
                  {row.error && (
                    <span className="ra-row-error small" title={row.error}>
                      {truncate(row.error, 80)}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 ? (
        <p className="muted">No calls match these filters.</p>
      ) : (
        <div className="row spread">
          <span className="muted small">
            Showing {visible.length} of {rows.length} call{rows.length === 1 ? "" : "s"}
          </span>
          {visible.length < rows.length && (
            <button type="button" className="secondary small-btn" onClick={() => setShown((n) => n + PAGE)}>
              Show {Math.min(PAGE, rows.length - visible.length)} more
            </button>
          )}
        </div>
      )}
    </div>
  );
}
