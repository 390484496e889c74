import { Link } from "react-router-dom";
import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useCan } from "../../auth/session";
import { useAgents } from "../queries";
import { AgentControls } from "./AgentControls";
import { AgentRow } from "./AgentRow";
import { CreateAgentForm } from "./CreateAgentForm";

interface Props {
  selectedId: string | null;
  onSelect: (id: string) => void;
}

export function AgentsPanel({ selectedId, onSelect }: Props) {
  const agents = useAgents();
  const canOperate = useCan("operate");
  const selected = agents.data?.find((a) => a.id === selectedId) ?? null;

  return (
    <Panel title="Agents" id="agents" className="area-agents">
      {canOperate && <CreateAgentForm onCreated={onSelect} />}
      <QueryState
        isPending={agents.isPending}
        error={agents.error}
        onRetry={() => void agents.refetch()}
        isEmpty={agents.data?.length === 0}
        empty={canOperate ? "No agents yet: create one from a template above." : "No agents yet."}
        loading="Loading agents…"
      >
        <ul className="agent-list">
          {agents.data?.map((agent) => (
            <AgentRow key={agent.id} agent={agent} selected={agent.id === selectedId} onSelect={onSelect} />
          ))}
        </ul>
      </QueryState>
      {selected && (
        <p className="small">
          <Link to={`/agent/${encodeURIComponent(selected.id)}`}>
            Open {selected.name}: settings, skills, files{canOperate ? ", delete" : ""}
          </Link>
        </p>
      )}
      {selected && canOperate && <AgentControls agent={selected} />}
    </Panel>
  );
}
