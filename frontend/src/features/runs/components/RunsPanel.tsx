import { useState } from "react";
import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useCan } from "../../auth/session";
import { useRuns } from "../queries";
import { RunItem } from "./RunItem";

export function RunsPanel({ agentId }: { agentId: string | null }) {
  const [onlySelected, setOnlySelected] = useState(false);
  const runs = useRuns(onlySelected ? agentId : null);
  const canControl = useCan("operate");
  return (
    <Panel
      title="Runs"
      id="runs"
      className="area-runs"
      actions={
        <label className="small">
          <input
            type="checkbox"
            checked={onlySelected}
            disabled={!agentId}
            onChange={(e) => setOnlySelected(e.target.checked)}
          />{" "}
          selected agent only
        </label>
      }
    >
      <QueryState
        isPending={runs.isPending}
        error={runs.error}
        onRetry={() => void runs.refetch()}
        isEmpty={runs.data?.length === 0}
        empty="No runs yet: a message to an agent starts one."
        loading="Loading runs…"
      >
        <ul className="plain">
          {runs.data?.map((run) => (
            <RunItem key={run.run_id} run={run} canControl={canControl} />
          ))}
        </ul>
      </QueryState>
    </Panel>
  );
}
