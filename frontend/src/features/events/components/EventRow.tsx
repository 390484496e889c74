import { memo } from "react";
import type { StreamEvent } from "../../../api/sse";
import { clockTime } from "../../../lib/format";
import { EventResult } from "../../results/components/EventResult";

export const EventRow = memo(function EventRow({ event }: { event: StreamEvent }) {
  const hasPayload = event.payload !== null && event.payload !== undefined;
  return (
    <li className="event-row">
      <details>
        <summary>
          <time dateTime={event.timestamp}>{clockTime(event.timestamp)}</time>{" "}
          <span className="event-type">{event.type}</span>{" "}
          {event.agent_id && <span className="muted">{event.agent_id}</span>}{" "}
          {event.message && <span className="event-message">{event.message}</span>}
        </summary>
        <dl className="small">
          {event.id !== null && (
            <>
              <dt>id</dt>
              <dd>{event.id}</dd>
            </>
          )}
          {event.run_id && (
            <>
              <dt>run</dt>
              <dd>{event.run_id}</dd>
            </>
          )}
        </dl>
        {event.type === "TOOL_RUN_FINISHED" && hasPayload ? (
          <EventResult event={event} />
        ) : hasPayload ? (
          <pre className="payload">{JSON.stringify(event.payload, null, 2)}</pre>
        ) : (
          <p className="muted small">No payload.</p>
        )}
      </details>
    </li>
  );
});
