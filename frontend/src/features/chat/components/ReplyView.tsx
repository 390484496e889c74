import { Link } from "react-router-dom";
import { Badge } from "../../../components/ui/Badge";
import { ErrorText } from "../../../components/ui/QueryState";
import { bubbleView } from "../bubble";
import { useRun } from "../../runs/queries";
import type { MessageReply } from "../queries";
import { actionLabel, approvalIdOf } from "../reply";
import { NoticeList } from "./NoticeList";

/**
 * The reply to one message, following its run live: status, approval decisions, the skills'
 * results in words and the notices. `reply` is the send's own answer (this page's sends only).
 */
export function ReplyView({ agentId, runId, reply }: { agentId: string; runId: string; reply?: MessageReply }) {
  // The run as stored now: the event stream marks ["runs"] stale on its events, so this follows it live.
  const run = useRun(runId);
  const view = bubbleView(run.data, reply);
  const waitingRun = !run.data && !reply;
  return (
    <div className="reply" data-run-id={runId} data-status={view.status ?? undefined}>
      {view.text ? (
        <p className="reply-text">{view.text}</p>
      ) : (
        waitingRun && <p className="muted">Loading the reply…</p>
      )}
      <ErrorText error={run.data ? null : run.error} onRetry={() => void run.refetch()} />
      <p className="small muted">
        run <Link to={`/runs/${encodeURIComponent(runId)}`}>{runId}</Link>{" "}
        {view.status && <Badge value={view.status} />}
      </p>
      {view.summaries.length > 0 && (
        <ul className="result-summaries small">
          {view.summaries.map((s, i) => (
            <li key={i}>{s}</li>
          ))}
        </ul>
      )}
      <NoticeList notices={view.notices} />
      {view.patch && (
        <p className="small">
          Workflow{view.patch.version !== null ? ` v${view.patch.version}` : ""}: {view.patch.summary}{" "}
          <Link to={`/workflow?agent=${encodeURIComponent(agentId)}`}>open the workflow</Link>
        </p>
      )}
      {view.approvals.length > 0 && (
        <ul className="approval-lines small">
          {view.approvals.map((a) => (
            <li key={a.id} className={`approval-line approval-${a.status}`} data-approval-status={a.status}>
              {a.text}
              {a.pending && (
                <>
                  {" "}
                  <a href={`#approval-${a.id}`}>review the approval</a>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {!run.data && reply && reply.actions.length > 0 && (
        <ul className="actions small">
          {reply.actions.map((action, i) => {
            const approvalId = approvalIdOf(action);
            return (
              <li key={i} className={action.ok === false ? "error" : undefined}>
                {action.ok === true ? "✓ " : action.ok === false ? "✗ " : "• "}
                {actionLabel(action)}
                {approvalId && (
                  <>
                    {" "}
                    <a href={`#approval-${approvalId}`}>review the approval</a>
                  </>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
