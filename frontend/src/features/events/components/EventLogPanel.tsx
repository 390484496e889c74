import { useMemo, useRef } from "react";
import { useSearchParams } from "react-router-dom";
import { Panel } from "../../../components/ui/Panel";
import { eventTypes, filterEvents } from "../eventLog";
import { mergeById, parseLogFilters, writeLogFilters, type LogFilters } from "../history";
import { useEventStream } from "../hooks/useEventStream";
import { useKeepScroll } from "../hooks/useKeepScroll";
import { useOlderEvents } from "../hooks/useOlderEvents";
import { EventRow } from "./EventRow";
import { OlderControl } from "./OlderControl";

const STATUS_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Connection lost — reconnecting…",
} as const;

/** Events per "Load older" page. */
export const LOG_PAGE = 50;

export function EventLogPanel({ agentId }: { agentId: string | null }) {
  const { log, status, history, clear } = useEventStream();
  // The filters live in the URL (`?type=…&only=agent`), so a reload or a link keeps them.
  const [params, setParams] = useSearchParams();
  const filters = parseLogFilters(params);
  const setFilters = (change: Partial<LogFilters>) =>
    setParams((prev) => writeLogFilters(prev, { ...parseLogFilters(prev), ...change }), { replace: true });
  const { type } = filters;
  const scopedAgent = filters.onlySelected ? agentId : null;

  const older = useOlderEvents(
    { agentId: scopedAgent, type, limit: LOG_PAGE },
    history.loaded
      ? { nextBefore: history.nextBefore, hasMore: history.hasMore }
      : { nextBefore: null, hasMore: false },
  );
  const all = useMemo(() => mergeById(older.events, log.events), [older.events, log.events]);
  const types = useMemo(() => eventTypes(all), [all]);
  const shown = useMemo(() => filterEvents(all, type, scopedAgent), [all, type, scopedAgent]);

  const box = useRef<HTMLOListElement>(null);
  const onScroll = useKeepScroll(box, shown, shown[0]?.id ?? null, older.loadOlder);

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
          <select aria-label="Filter by type" value={type} onChange={(e) => setFilters({ type: e.target.value })}>
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
              checked={filters.onlySelected}
              disabled={!agentId}
              onChange={(e) => setFilters({ onlySelected: e.target.checked })}
            />{" "}
            selected agent only
          </label>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              clear();
              older.reset();
            }}
          >
            Clear
          </button>
        </>
      }
    >
      {history.error && (
        <p className="error small" role="alert">
          {history.error}
        </p>
      )}
      <OlderControl paging={older} what="events" />
      {shown.length === 0 ? (
        <p className="muted" data-testid="event-log-empty">
          {!history.loaded
            ? "Loading the event history…"
            : all.length === 0
              ? "No events yet; they appear here as they happen."
              : "No events match the filter."}
        </p>
      ) : (
        <ol className="event-list" ref={box} onScroll={(e) => onScroll(e.currentTarget)} data-testid="event-list">
          {shown.map((event, i) => (
            <EventRow key={event.id ?? `x${i}`} event={event} />
          ))}
        </ol>
      )}
      <p className="muted small">
        Showing {shown.length} of {all.length} events loaded (the newest {log.cap} kept live).
      </p>
    </Panel>
  );
}
