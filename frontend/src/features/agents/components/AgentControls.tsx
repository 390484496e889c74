import { ErrorText } from "../../../components/ui/QueryState";
import { useStartStop, type Agent } from "../queries";
import { AttachSkill } from "./AttachSkill";

/** Start/stop and attach skill for the selected agent (operators only; the caller checks). */
export function AgentControls({ agent }: { agent: Agent }) {
  const startStop = useStartStop();
  const running = agent.status === "running";
  return (
    <div className="stack compact agent-controls">
      <div className="row">
        <strong>{agent.name}</strong>
        <button
          type="button"
          className={running ? "secondary" : ""}
          disabled={startStop.isPending}
          onClick={() => startStop.mutate({ agentId: agent.id, action: running ? "stop" : "start" })}
        >
          {startStop.isPending ? "…" : running ? "Stop" : "Start"}
        </button>
      </div>
      <ErrorText error={startStop.error} />
      <AttachSkill agentId={agent.id} />
    </div>
  );
}
