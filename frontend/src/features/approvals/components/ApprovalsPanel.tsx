import { Link } from "react-router-dom";
import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useCan } from "../../auth/session";
import { usePendingApprovals } from "../queries";
import { ApprovalItem } from "./ApprovalItem";
import { RefusedDecisions } from "./RefusedDecisions";

/** What waits for a decision now; decided and cancelled requests are in the inbox. */
export function ApprovalsPanel() {
  const approvals = usePendingApprovals();
  const canDecide = useCan("decide_approvals");
  return (
    <Panel
      title={`Pending approvals${approvals.data?.length ? ` (${approvals.data.length})` : ""}`}
      id="approvals"
      className="area-approvals"
      actions={<Link to="/approvals">Open the inbox</Link>}
    >
      <RefusedDecisions listed={new Set(approvals.data?.map((a) => a.id))} />
      <QueryState
        isPending={approvals.isPending}
        error={approvals.error}
        onRetry={() => void approvals.refetch()}
        isEmpty={approvals.data?.length === 0}
        empty="Nothing is waiting for a decision."
        loading="Loading approvals…"
      >
        <ul className="plain">
          {approvals.data?.map((a) => (
            <ApprovalItem key={a.id} approval={a} canDecide={canDecide} />
          ))}
        </ul>
      </QueryState>
    </Panel>
  );
}
