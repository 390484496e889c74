import { Link } from "react-router-dom";
import { Badge } from "../../../components/ui/Badge";
import { relativeTime } from "../../../lib/format";
import { guardText, isDecidable, outcomeText, whenText } from "../inbox";
import type { Approval } from "../queries";
import { DecisionError } from "./DecisionError";
import { DecisionForm } from "./DecisionForm";
import { PolicyProgress } from "./PolicyProgress";

function When({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={whenText(iso)}>
      {whenText(iso)} ({relativeTime(iso)})
    </time>
  );
}

/** One request in the inbox: what is asked, for which run and step, and how it ended. */
export function InboxItem({ approval, canDecide }: { approval: Approval; canDecide: boolean }) {
  const decidable = isDecidable(approval);
  const outcome = outcomeText(approval);
  const shownStatus = approval.status === "pending" && !decidable ? "cancelled" : approval.status;
  return (
    <li className={`approval inbox-item inbox-${shownStatus}`} id={`approval-${approval.id}`} data-status={shownStatus}>
      <div className="row spread">
        <p className="inbox-reason">
          <strong>{approval.agent_id}</strong> asks: {approval.reason}
        </p>
        <Badge value={shownStatus} />
      </div>
      <p className="muted small">
        Requested <When iso={approval.requested_at} /> ·{" "}
        <Link to={`/approvals/${encodeURIComponent(approval.id)}`} aria-label={`Page of approval ${approval.id}`}>
          its page
        </Link>
      </p>
      <PolicyProgress approval={approval} />
      {approval.run_id && (
        <p className="small inbox-run">
          Run <Link to={`/runs/${encodeURIComponent(approval.run_id)}`}>{approval.run_id}</Link>
          {approval.run && (
            <>
              {" "}
              <Badge value={approval.run.status} /> <span className="muted">“{approval.run.input}”</span>
            </>
          )}
        </p>
      )}
      {approval.gate && approval.gate.guards.length > 0 && (
        <div className="small inbox-gate">
          <span className="muted">{decidable ? "Once approved it will:" : "It guarded:"}</span>
          <ul>
            {approval.gate.guards.map((step) => (
              <li key={step.idx}>
                {guardText(step)}
                {step.command && (
                  <>
                    {" "}
                    <code>{step.command}</code>
                  </>
                )}{" "}
                <span className="muted">({step.status})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {outcome && (
        <p className="inbox-outcome small">
          <strong>{outcome}</strong>
          {approval.decided_at && (
            <>
              , <When iso={approval.decided_at} />
            </>
          )}
          {approval.note && (
            <>
              {" "}
              — note: <q className="inbox-note">{approval.note}</q>
            </>
          )}
        </p>
      )}
      {decidable && canDecide && <DecisionForm approval={approval} />}
      <DecisionError approvalId={approval.id} />
    </li>
  );
}
