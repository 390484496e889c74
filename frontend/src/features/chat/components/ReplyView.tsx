import { Link } from "react-router-dom";
import { Badge } from "../../../components/ui/Badge";
import type { MessageReply } from "../queries";
import { actionLabel, approvalIdOf, patchSummary } from "../reply";

export function ReplyView({ reply }: { reply: MessageReply }) {
  const patch = patchSummary(reply);
  return (
    <div className="reply">
      <p className="reply-text">{reply.reply}</p>
      <p className="small muted">
        run <code>{reply.run_id}</code> <Badge value={reply.run_status} />
      </p>
      {patch && (
        <p className="small">
          Workflow{patch.version !== null ? ` v${patch.version}` : ""}: {patch.summary}{" "}
          <Link to={`/workflow?agent=${encodeURIComponent(reply.agentId)}`}>open the workflow</Link>
        </p>
      )}
      {reply.actions.length > 0 && (
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
