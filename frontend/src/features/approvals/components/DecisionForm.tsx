import { useState } from "react";
import { useDecideApproval, type Approval } from "../queries";

/** Approve or reject with an optional note (a refused decision is said by DecisionError). */
export function DecisionForm({ approval }: { approval: Approval }) {
  const decide = useDecideApproval(approval.id);
  const [note, setNote] = useState("");
  return (
    <div className="row decision-form">
      <input
        aria-label="Note (optional)"
        placeholder="Note (optional)"
        maxLength={2000}
        value={note}
        onChange={(e) => setNote(e.target.value)}
      />
      <button type="button" disabled={decide.isPending} onClick={() => decide.mutate({ decision: "approved", note })}>
        Approve
      </button>
      <button
        type="button"
        className="danger"
        disabled={decide.isPending}
        onClick={() => decide.mutate({ decision: "rejected", note })}
      >
        Reject
      </button>
    </div>
  );
}
