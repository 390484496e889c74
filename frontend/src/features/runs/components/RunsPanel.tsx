import { Link } from "react-router-dom";
import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useRecentRuns } from "../queries";
import { RunRow } from "./RunRow";

/** Mission Control's runs: the latest few (of the selected agent, if any), each opening its page. */
export function RunsPanel({ agentId }: { agentId: string | null }) {
  const runs = useRecentRuns(agentId);
  const all = agentId ? `/runs?agent=${encodeURIComponent(agentId)}` : "/runs";
  return (
    <Panel
      title="Runs"
      id="runs"
      className="area-runs runs-compact"
      actions={
        <Link to={all} className="small">
          All runs
        </Link>
      }
    >
      <p className="muted small">{agentId ? `Latest runs of ${agentId}` : "Latest runs of every agent"}</p>
      <QueryState
        isPending={runs.isPending}
        error={runs.error}
        onRetry={() => void runs.refetch()}
        isEmpty={runs.data?.runs.length === 0}
        empty={
          agentId
            ? "No runs of this agent yet: a message to it starts one."
            : "No runs yet: a message to an agent starts one."
        }
        loading="Loading runs…"
      >
        <ul className="plain run-list compact">
          {runs.data?.runs.map((run) => (
            <RunRow key={run.run_id} run={run} compact />
          ))}
        </ul>
      </QueryState>
    </Panel>
  );
}
