import { useCallback } from "react";
import { useSearchParams } from "react-router-dom";
import { AgentsPanel } from "../agents/components/AgentsPanel";
import { ApprovalsPanel } from "../approvals/components/ApprovalsPanel";
import { ChatPanel } from "../chat/components/ChatPanel";
import { EventLogPanel } from "../events/components/EventLogPanel";
import { RunsPanel } from "../runs/components/RunsPanel";

/** `/`: the selected agent lives in the URL (`?agent=<id>`) so a view can be linked and reloaded. */
export function MissionControlPage() {
  const [params, setParams] = useSearchParams();
  const agentId = params.get("agent");
  const select = useCallback(
    (id: string) =>
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          next.set("agent", id);
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );

  return (
    <div className="mission-control">
      <AgentsPanel selectedId={agentId} onSelect={select} />
      <ChatPanel agentId={agentId} />
      <div className="side-column">
        <ApprovalsPanel />
        <RunsPanel agentId={agentId} />
      </div>
      <EventLogPanel agentId={agentId} />
    </div>
  );
}
