import { approversText, progressText, stageText, untilText, voteText, whenText } from "../inbox";
import type { Approval } from "../queries";

/**
 * Where a request under the tenant's approval policy stands: "1 of 2 approvals", its stage, who
 * may approve, its deadline and the votes so far. Nothing for a request without a policy.
 */
export function PolicyProgress({ approval }: { approval: Approval }) {
  const progress = progressText(approval);
  if (!progress) return null;
  const votes = approval.votes ?? [];
  const pending = approval.status === "pending";
  return (
    <div className="small inbox-policy">
      <p>
        {pending && <strong className="inbox-progress">{progress}</strong>}
        {pending && " · "}
        <span className="inbox-stage">{stageText(approval)}</span>
        {pending && <span className="muted"> · approvers: {approversText(approval)}</span>}
      </p>
      {pending && approval.deadline_at && (
        <p className="inbox-deadline">
          Deadline{" "}
          <time dateTime={approval.deadline_at} title={whenText(approval.deadline_at)}>
            {whenText(approval.deadline_at)} ({untilText(approval.deadline_at)})
          </time>
        </p>
      )}
      {votes.length > 0 && (
        <ul className="inbox-votes" aria-label="Votes">
          {votes.map((v) => (
            <li key={`${v.subject}-${v.at}`}>
              {voteText(v)}
              {v.note && (
                <>
                  {" "}
                  — <q>{v.note}</q>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
