import { useSearchParams } from "react-router-dom";
import { Panel } from "../../components/ui/Panel";
import { ErrorText, QueryState } from "../../components/ui/QueryState";
import { useCan } from "../auth/session";
import { useEventStream } from "../events/hooks/useEventStream";
import { InboxItem } from "./components/InboxItem";
import { RefusedDecisions } from "./components/RefusedDecisions";
import { parseStatusFilter, sections, STATUS_FILTERS } from "./inbox";
import { useApprovalsInbox } from "./queries";

/** `/approvals`: every request, pending first; live (the event stream refreshes it), filtered, paged. */
export function ApprovalsPage() {
  const [params, setParams] = useSearchParams();
  const status = parseStatusFilter(params.get("status"));
  const inbox = useApprovalsInbox(status);
  const canDecide = useCan("decide_approvals");
  const { status: stream } = useEventStream();
  const approvals = inbox.data?.pages.flatMap((p) => p.approvals) ?? [];
  const setStatus = (value: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set("status", value);
        else next.delete("status");
        return next;
      },
      { replace: true },
    );

  return (
    <div className="page-narrow approvals-inbox">
      <Panel
        title="Approvals inbox"
        id="approvals-inbox"
        actions={
          <>
            <span className={`stream-status stream-${stream}`} role="status">
              {stream === "live" ? "Live" : stream === "connecting" ? "Connecting…" : "Reconnecting — updates paused"}
            </span>
            <label className="small">
              Show{" "}
              <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
                {STATUS_FILTERS.map((f) => (
                  <option key={f.value} value={f.value}>
                    {f.label}
                  </option>
                ))}
              </select>
            </label>
          </>
        }
      >
        {!canDecide && <p className="muted small">Your role can read approvals but not decide them.</p>}
        <RefusedDecisions listed={new Set(approvals.map((a) => a.id))} />
        <QueryState
          isPending={inbox.isPending}
          error={inbox.data ? null : inbox.error}
          onRetry={() => void inbox.refetch()}
          isEmpty={approvals.length === 0}
          empty={status ? `No ${status} approvals.` : "No approval has been requested yet."}
          loading="Loading approvals…"
        >
          {sections(approvals).map((section) => (
            <section key={section.key} aria-labelledby={`inbox-${section.key}`} className="inbox-section">
              <h3 id={`inbox-${section.key}`}>
                {section.title} ({section.approvals.length})
              </h3>
              <ul className="plain">
                {section.approvals.map((a) => (
                  <InboxItem key={a.id} approval={a} canDecide={canDecide} />
                ))}
              </ul>
            </section>
          ))}
          {inbox.hasNextPage && (
            <button
              type="button"
              className="secondary"
              disabled={inbox.isFetchingNextPage}
              onClick={() => void inbox.fetchNextPage()}
            >
              {inbox.isFetchingNextPage ? "Loading…" : "Load older approvals"}
            </button>
          )}
          {inbox.data && inbox.error && <ErrorText error={inbox.error} onRetry={() => void inbox.refetch()} />}
        </QueryState>
      </Panel>
    </div>
  );
}
