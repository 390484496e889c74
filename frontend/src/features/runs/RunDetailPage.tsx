import { Link, useParams } from "react-router-dom";
import { ErrorText, QueryState } from "../../components/ui/QueryState";
import { RunApprovals } from "./components/RunApprovals";
import { RunEventsPanel } from "./components/RunEventsPanel";
import { RunHeader } from "./components/RunHeader";
import { RunPlan } from "./components/RunPlan";
import { RunRelations } from "./components/RunRelations";
import { useRun } from "./queries";

function RunDetail({ runId }: { runId: string }) {
  const run = useRun(runId);
  return (
    <QueryState
      isPending={run.isPending}
      error={run.data ? null : run.error}
      onRetry={() => void run.refetch()}
      loading="Loading the run…"
    >
      {run.data && (
        <>
          {run.error && <ErrorText error={run.error} onRetry={() => void run.refetch()} />}
          <RunHeader run={run.data} />
          <div className="run-grid">
            <div className="stack">
              <RunPlan run={run.data} />
              <RunApprovals run={run.data} />
              <RunRelations run={run.data} />
            </div>
            <RunEventsPanel runId={runId} agentId={run.data.agent_id} />
          </div>
        </>
      )}
    </QueryState>
  );
}

/** `/runs/:runId`: one run's plan, steps and outputs, approvals, events and related runs, live. */
export function RunDetailPage() {
  const { runId = "" } = useParams();
  return (
    <div className="run-page stack">
      <p className="small row">
        <Link to="/runs">← All runs</Link>
        <Link to="/">Mission Control</Link>
      </p>
      <RunDetail key={runId} runId={runId} />
    </div>
  );
}
