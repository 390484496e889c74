import { memo } from "react";
import { Badge } from "../../../components/ui/Badge";
import { relativeTime, truncate } from "../../../lib/format";
import type { Agent } from "../queries";

interface Props {
  agent: Agent;
  selected: boolean;
  onSelect: (id: string) => void;
}

export const AgentRow = memo(function AgentRow({ agent, selected, onSelect }: Props) {
  return (
    <li>
      <button
        type="button"
        className={`agent-row ${selected ? "selected" : ""}`}
        aria-pressed={selected}
        onClick={() => onSelect(agent.id)}
      >
        <span className="agent-name">
          {agent.name} <Badge value={agent.status} />
        </span>
        <span className="muted small">
          heartbeat {relativeTime(agent.lastHeartbeatAt)} · message {relativeTime(agent.lastMessageAt)}
        </span>
        {agent.lastMessage && <span className="small last-message">“{truncate(agent.lastMessage, 80)}”</span>}
      </button>
    </li>
  );
});
