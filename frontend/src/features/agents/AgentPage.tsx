import { Link, useParams } from "react-router-dom";
import { Badge } from "../../components/ui/Badge";
import { Panel } from "../../components/ui/Panel";
import { QueryState } from "../../components/ui/QueryState";
import { relativeTime } from "../../lib/format";
import { useCan } from "../auth/session";
import { AgentControls } from "./components/AgentControls";
import { AgentSettings } from "./components/AgentSettings";
import { AgentSkillList } from "./components/AgentSkillList";
import { DeleteAgent } from "./components/DeleteAgent";
import { WorkspaceFilesPanel } from "./components/WorkspaceFilesPanel";
import { useAgent } from "./queries";

/** `/agent/:agentId`: one agent's settings, skills and workspace files; operators change them. */
export function AgentPage() {
  const { agentId = "" } = useParams();
  const agent = useAgent(agentId);
  const canOperate = useCan("operate");

  return (
    <div className="agent-page stack">
      <p className="small">
        <Link to={`/?agent=${encodeURIComponent(agentId)}`}>← Mission Control</Link>
      </p>
      <QueryState
        isPending={agent.isPending}
        error={agent.error}
        onRetry={() => void agent.refetch()}
        loading="Loading the agent…"
      >
        {agent.data && (
          <>
            <header className="row">
              <h1 className="agent-title">{agent.data.name}</h1>
              <Badge value={agent.data.status} />
              <span className="muted small">
                {agent.data.id} · heartbeat {relativeTime(agent.data.lastHeartbeatAt)}
              </span>
            </header>
            <div className="agent-grid">
              <Panel title="Settings" id="agent-settings">
                <AgentSettings agent={agent.data} canOperate={canOperate} />
              </Panel>
              <Panel title="Status and skills" id="agent-skills">
                {canOperate ? <AgentControls agent={agent.data} /> : <AgentSkillList agentId={agent.data.id} />}
              </Panel>
              <WorkspaceFilesPanel agentId={agent.data.id} canOperate={canOperate} />
              {canOperate && (
                <Panel title="Delete" id="agent-delete">
                  <DeleteAgent agent={agent.data} />
                </Panel>
              )}
            </div>
          </>
        )}
      </QueryState>
    </div>
  );
}
