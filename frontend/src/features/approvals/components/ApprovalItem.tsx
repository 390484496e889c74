import { useState } from "react";
import { ErrorText } from "../../../components/ui/QueryState";
import { relativeTime } from "../../../lib/format";
import { useDecideApproval, type Approval } from "../queries";

export function ApprovalItem({ approval, canDecide }: { approval: Approval; canDecide: boolean }) {
  const decide = useDecideApproval();
  const [note, setNote] = useState("");
  return (
    <li className="approval" id={`approval-${approval.id}`}>
      <p>
        <strong>{approval.agent_id}</strong> asks: {approval.reason}
      </p>
      <p className="muted small">
        {approval.run_id ? (
          <>
            run <code>{approval.run_id}</code> ·{" "}
          </>
        ) : null}
        requested {relativeTime(approval.requested_at)}
      </p>
      {canDecide && (
        <div className="row">
          <input
            aria-label="Note (optional)"
            placeholder="Note (optional)"
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
          <button
            type="button"
            disabled={decide.isPending}
            onClick={() => decide.mutate({ id: approval.id, decision: "approved", note })}
          >
            Approve
          </button>
          <button
            type="button"
            className="danger"
            disabled={decide.isPending}
            onClick={() => decide.mutate({ id: approval.id, decision: "rejected", note })}
          >
            Reject
          </button>
        </div>
      )}
      <ErrorText error={decide.error} />
    </li>
  );
}
