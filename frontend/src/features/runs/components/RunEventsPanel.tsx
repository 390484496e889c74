import { Panel } from "../../../components/ui/Panel";
import { ErrorText, QueryState } from "../../../components/ui/QueryState";
import { EventRow } from "../../events/components/EventRow";
import { useRunEvents } from "../hooks/useRunEvents";

const STATUS_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Connection lost — reconnecting…",
} as const;

/** The run's events from the store, older ones on demand, new ones as they happen. */
export function RunEventsPanel({ runId, agentId }: { runId: string; agentId: string }) {
  const events = useRunEvents(runId, agentId);
  return (
    <Panel
      title="Events"
      id="run-events"
      actions={
        <span className={`stream-status stream-${events.status}`} role="status" aria-label="Run events stream">
          {STATUS_TEXT[events.status]}
        </span>
      }
    >
      <QueryState
        isPending={events.isPending}
        error={events.events.length === 0 ? events.error : null}
        onRetry={() => void events.refetch()}
        isEmpty={events.events.length === 0}
        empty="No events recorded for this run yet."
        loading="Loading events…"
      >
        {events.hasOlder && (
          <button
            type="button"
            className="secondary small-btn"
            disabled={events.loadingOlder}
            onClick={events.loadOlder}
          >
            {events.loadingOlder ? "Loading…" : "Older events"}
          </button>
        )}
        <ol className="event-list run-event-list">
          {events.events.map((event, i) => (
            <EventRow key={event.id ?? `x${i}`} event={event} />
          ))}
        </ol>
        <ErrorText error={events.events.length > 0 ? events.error : null} />
      </QueryState>
    </Panel>
  );
}
