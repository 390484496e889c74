import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { describePlacement } from "../placement";
import { useFleetAgents, useNodes } from "../queries";
import { ProvisionForm } from "./ProvisionForm";

/** Fleet agents with where each is placed, and provisioning one onto a node. */
export function FleetAgentsPanel() {
  const agents = useFleetAgents();
  const nodes = useNodes();
  const allNodes = nodes.data ?? [];
  return (
    <Panel title="Fleet agents" id="fleet-agents">
      <QueryState
        isPending={agents.isPending}
        error={agents.error}
        onRetry={() => void agents.refetch()}
        isEmpty={agents.data?.length === 0}
        empty="No fleet agents registered (POST /fleet/agents)."
      >
        <ul className="plain-list fleet-agents">
          {agents.data?.map((agent) => (
            <li key={`${agent.tenant_id}/${agent.id}`} className="stack compact" aria-label={`Fleet agent ${agent.id}`}>
              <div className="row">
                <strong>{agent.name}</strong>
                <span className="muted small">
                  {agent.id} · {agent.tenant_id} · skills: {agent.skills.join(", ") || "none"}
                </span>
              </div>
              {agent.placements.length > 0 && (
                <ul className="small">
                  {agent.placements.map((placement) => (
                    <li key={placement.node_id} className={placement.status === "failed" ? "error" : undefined}>
                      {describePlacement(placement, allNodes)}
                    </li>
                  ))}
                </ul>
              )}
              <ProvisionForm agent={agent} nodes={allNodes} />
            </li>
          ))}
        </ul>
      </QueryState>
    </Panel>
  );
}
