import { Link, useSearchParams } from "react-router-dom";
import { Panel } from "../../components/ui/Panel";

/** Placeholder: the React Flow editor is the next step (SPEC §8, issue 6 item 4). */
export function WorkflowEditorPage() {
  const [params] = useSearchParams();
  const agentId = params.get("agent");
  return (
    <div className="page-narrow">
      <Panel title="Workflow Editor">
        <p>
          Coming next: {agentId ? <>the workflow of <strong>{agentId}</strong></> : "an agent's workflow (or a standalone one)"} as a
          node graph that updates live as patches arrive — add, rename, connect, delete and move nodes, save as a new
          version, and browse or restore the version history. Nodes are coloured by status (pending, active, done).
        </p>
        <p>
          <Link to={agentId ? `/?agent=${encodeURIComponent(agentId)}` : "/"}>Back to Mission Control</Link>
        </p>
      </Panel>
    </div>
  );
}
