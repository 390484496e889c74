import { NODE_STATUSES } from "../graph";

export function StatusLegend() {
  return (
    <ul className="wf-legend" aria-label="Node status colours" data-testid="workflow-legend">
      {NODE_STATUSES.map((status) => (
        <li key={status}>
          <span className={`wf-swatch wf-status-${status}`} aria-hidden="true" /> {status}
        </li>
      ))}
      <li>
        <span className="wf-swatch wf-swatch-new" aria-hidden="true" /> new (arrived live)
      </li>
    </ul>
  );
}
