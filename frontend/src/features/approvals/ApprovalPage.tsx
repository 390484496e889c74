import { useMemo, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api } from "../../api";
import { createApiClient, type ApiClient } from "../../api/client";
import { Panel } from "../../components/ui/Panel";
import { ErrorText, QueryState } from "../../components/ui/QueryState";
import { useCan } from "../auth/session";
import { PolicyProgress } from "./components/PolicyProgress";
import type { Approval, Decision } from "./queries";

function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

function outcome(approval: Approval): string {
  const by = approval.decided_by ? ` by ${approval.decided_by}` : "";
  return `${approval.status[0].toUpperCase()}${approval.status.slice(1)}${by}`;
}

/** One approval, and Approve / Reject with a note while it is pending; `client` makes the calls. */
export function ApprovalView({
  approvalId,
  client,
  canDecide,
  linked = false,
}: {
  approvalId: string;
  client: ApiClient;
  canDecide: boolean;
  linked?: boolean;
}) {
  const qc = useQueryClient();
  const key = ["approval", approvalId, linked ? "link" : "session"];
  const approval = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => client.call("getApproval", { path: { approval_id: approvalId }, signal }),
  });
  const [note, setNote] = useState("");
  const decide = useMutation({
    mutationFn: (decision: Decision) =>
      client.call("decideApproval", { path: { approval_id: approvalId }, body: { decision, note: note || null } }),
    onSuccess: (decided) => qc.setQueryData(key, decided),
    onSettled: () => void qc.invalidateQueries({ queryKey: ["approvals"] }),
  });
  const data = approval.data;
  // Under a policy needing several approvers a decision is one vote: the request stays pending.
  const voted = decide.isSuccess && data?.status === "pending";

  return (
    <div className="page-narrow approval-page">
      <Panel title="Approval" id="approval">
        <QueryState
          isPending={approval.isPending}
          error={data ? null : approval.error}
          onRetry={() => void approval.refetch()}
          loading="Loading the approval…"
        >
          {data && (
            <>
              <p className="approval-reason">
                <strong>{data.reason}</strong>
              </p>
              <dl className="approval-facts">
                <dt>Agent</dt>
                <dd>{data.agent_id}</dd>
                <dt>Run</dt>
                <dd>
                  {!data.run_id ? "—" : linked ? data.run_id : <Link to={`/runs/${data.run_id}`}>{data.run_id}</Link>}
                  {data.run ? ` (${data.run.status}): ${data.run.input}` : ""}
                </dd>
                <dt>Asked by</dt>
                <dd>{data.requested_by ?? "—"}</dd>
                <dt>Requested</dt>
                <dd>{when(data.requested_at)}</dd>
                <dt>Deadline</dt>
                <dd>{when(data.deadline_at)}</dd>
              </dl>
              <PolicyProgress approval={data} />
              {data.status === "pending" ? (
                voted ? (
                  <p role="status" className="approval-outcome">
                    Your vote is recorded; the request waits for the other approvers.
                  </p>
                ) : canDecide ? (
                  <div className="row decision-form">
                    <input
                      aria-label="Note (optional)"
                      placeholder="Note (optional)"
                      maxLength={2000}
                      value={note}
                      onChange={(e) => setNote(e.target.value)}
                    />
                    <button type="button" disabled={decide.isPending} onClick={() => decide.mutate("approved")}>
                      Approve
                    </button>
                    <button
                      type="button"
                      className="danger"
                      disabled={decide.isPending}
                      onClick={() => decide.mutate("rejected")}
                    >
                      Reject
                    </button>
                  </div>
                ) : (
                  <p className="muted small">Your role can read approvals but not decide them.</p>
                )
              ) : (
                <p role="status" className="approval-outcome">
                  {outcome(data)}
                  {data.decided_at ? ` — ${when(data.decided_at)}` : ""}
                  {data.note ? `: “${data.note}”` : ""}
                </p>
              )}
              <ErrorText error={decide.error} />
            </>
          )}
        </QueryState>
      </Panel>
    </div>
  );
}

/** `/approvals/:approvalId` in the app: the signed-in session's view of one approval. */
export function ApprovalDetailPage() {
  const { approvalId = "" } = useParams();
  const canDecide = useCan("decide_approvals");
  return <ApprovalView approvalId={approvalId} client={api} canDecide={canDecide} />;
}

const LINK_INVALID = "This link has expired or is no longer valid. Sign in to Talkative to decide this approval.";

/** The page an emailed link opens: its token, held in memory only, acts on this approval alone. */
export function LinkedApprovalPage({ approvalId, token }: { approvalId: string; token: string }) {
  const [refused, setRefused] = useState<string | null>(null);
  const client = useMemo(
    () =>
      createApiClient({
        getToken: () => token,
        clearToken: () => undefined,
        onUnauthorized: () => setRefused(LINK_INVALID),
      }),
    [token],
  );
  if (refused) {
    return (
      <div className="page-narrow panel">
        <h1>Approval</h1>
        <p role="alert">{refused}</p>
        <p>
          <a href={`/approvals/${encodeURIComponent(approvalId)}`}>Open it in Talkative</a>
        </p>
      </div>
    );
  }
  return <ApprovalView approvalId={approvalId} client={client} canDecide linked />;
}
