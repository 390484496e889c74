import { Badge } from "../../../components/ui/Badge";
import { Panel } from "../../../components/ui/Panel";
import { dateTime } from "../format";
import type { Run } from "../queries";

/** The run's approval requests and how each ended: who, when, with what note. */
export function RunApprovals({ run }: { run: Run }) {
  const approvals = run.approvals ?? [];
  if (approvals.length === 0) return null;
  return (
    <Panel title="Approvals" id="run-approvals">
      <ul className="plain">
        {approvals.map((a) => (
          <li key={a.id} className="approval" data-testid="run-approval">
            <div className="row spread">
              <span>{a.reason}</span>
              <Badge value={a.status} />
            </div>
            <p className="muted small">requested {dateTime(a.requested_at)}</p>
            {a.status === "pending" ? (
              <p className="small">Waiting for a decision.</p>
            ) : (
              <p className="small">
                {a.status} by <strong>{a.decided_by ?? "system"}</strong>{" "}
                {a.decided_at && `on ${dateTime(a.decided_at)}`}
              </p>
            )}
            {a.note && <p className="small">Note: “{a.note}”</p>}
          </li>
        ))}
      </ul>
    </Panel>
  );
}
