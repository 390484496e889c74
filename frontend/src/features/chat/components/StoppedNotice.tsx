import { ErrorText } from "../../../components/ui/QueryState";
import { useStartStop } from "../../agents/queries";

/** Said in place of the chat input while the agent is stopped, with a way to start it. */
export function StoppedNotice({ agentId }: { agentId: string }) {
  const startStop = useStartStop();
  return (
    <div className="notice stack compact" role="status" data-testid="agent-stopped">
      <div className="row spread">
        <span>This agent is stopped, so it cannot take messages. Start it to talk to it.</span>
        <button
          type="button"
          disabled={startStop.isPending}
          onClick={() => startStop.mutate({ agentId, action: "start" })}
        >
          {startStop.isPending ? "Starting…" : "Start agent"}
        </button>
      </div>
      <ErrorText error={startStop.error} />
    </div>
  );
}
