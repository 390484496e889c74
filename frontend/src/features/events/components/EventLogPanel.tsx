import { useLayoutEffect, useMemo, useRef, useState } from "react";
import { Panel } from "../../../components/ui/Panel";
import { eventTypes, filterEvents } from "../eventLog";
import { useEventStream } from "../hooks/useEventStream";
import { EventRow } from "./EventRow";

const STATUS_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Connection lost — reconnecting…",
} as const;

export function EventLogPanel({ agentId }: { agentId: string | null }) {
  const { log, status, clear } = useEventStream();
  const [type, setType] = useState("");
  const [onlySelected, setOnlySelected] = useState(false);
  const types = useMemo(() => eventTypes(log.events), [log.events]);
  const shown = useMemo(
    () => filterEvents(log.events, type, onlySelected ? agentId : null),
    [log.events, type, onlySelected, agentId],
  );

  // Newest at the bottom: follow new events unless the reader scrolled up.
  const box = useRef<HTMLOListElement>(null);
  const follow = useRef(true);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [shown]);

  return (
    <Panel
      title="Event log"
      id="events"
      className="area-events"
      actions={
        <>
          <span className={`stream-status stream-${status}`} role="status">
            {STATUS_TEXT[status]}
          </span>
          <select aria-label="Filter by type" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">All types</option>
            {type && !types.includes(type) && <option value={type}>{type}</option>}
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <label className="small">
            <input
              type="checkbox"
              checked={onlySelected}
              disabled={!agentId}
              onChange={(e) => setOnlySelected(e.target.checked)}
            />{" "}
            selected agent only
          </label>
          <button type="button" className="secondary" onClick={clear}>
            Clear
          </button>
        </>
      }
    >
      {shown.length === 0 ? (
        <p className="muted">
          {log.events.length === 0
            ? "No events since this page opened; they appear here as they happen."
            : "No events match the filter."}
        </p>
      ) : (
        <ol
          className="event-list"
          ref={box}
          onScroll={(e) => {
            const el = e.currentTarget;
            follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          }}
        >
          {shown.map((event, i) => (
            <EventRow key={event.id ?? `x${i}`} event={event} />
          ))}
        </ol>
      )}
      <p className="muted small">
        Showing {shown.length} of the last {log.events.length} events (at most {log.cap} kept).
      </p>
    </Panel>
  );
}
