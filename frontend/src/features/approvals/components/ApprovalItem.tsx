import { Link } from "react-router-dom";
import { relativeTime } from "../../../lib/format";
import type { Approval } from "../queries";
import { DecisionError } from "./DecisionError";
import { DecisionForm } from "./DecisionForm";

/** A pending request in Mission Control's panel (the inbox has the full story). */
export function ApprovalItem({ approval, canDecide }: { approval: Approval; canDecide: boolean }) {
  return (
    <li className="approval" id={`approval-${approval.id}`}>
      <p>
        <strong>{approval.agent_id}</strong> asks: {approval.reason}
      </p>
      <p className="muted small">
        {approval.run_id ? (
          <>
            run <Link to={`/runs/${encodeURIComponent(approval.run_id)}`}>{approval.run_id}</Link> ·{" "}
          </>
        ) : null}
        requested {relativeTime(approval.requested_at)}
      </p>
      {canDecide && <DecisionForm approval={approval} />}
      <DecisionError approvalId={approval.id} />
    </li>
  );
}
