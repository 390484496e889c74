import { createContext, useContext, useEffect, useReducer, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../../../api";
import { errorMessage } from "../../../api/client";
import { openEventStream, type StreamStatus } from "../../../api/sse";
import { useSession } from "../../auth/session";
import { eventLogReducer, initialEventLog, staleQueryKeys, type EventLogState } from "../eventLog";
import { fromStored } from "../history";

/** Where the history loaded at start ends: the cursor of the page before it. */
export interface HistoryStart {
  loaded: boolean;
  nextBefore: string | null;
  hasMore: boolean;
  error: string | null;
}

interface EventStream {
  log: EventLogState;
  status: StreamStatus;
  history: HistoryStart;
  clear: () => void;
}

const EventStreamContext = createContext<EventStream | null>(null);

export function useEventStream(): EventStream {
  const value = useContext(EventStreamContext);
  if (!value) throw new Error("useEventStream outside <EventStreamProvider>");
  return value;
}

const FLUSH_MS = 250;
/** Events of the newest history page loaded when the app opens. */
export const HISTORY_PAGE = 100;

/**
 * One SSE connection for the whole app. It first loads the newest page of the stored history,
 * then goes on live from that page's `live_after` (the stream repeats nothing: the log drops
 * ids it has). Feeds the event log and marks the affected server data stale, so panels update
 * live without polling.
 */
export function EventStreamProvider({ children }: { children: ReactNode }) {
  const { token } = useSession();
  const queryClient = useQueryClient();
  const [log, dispatch] = useReducer(eventLogReducer, undefined, () => initialEventLog());
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const [history, setHistory] = useState<HistoryStart>({
    loaded: false,
    nextBefore: null,
    hasMore: false,
    error: null,
  });

  useEffect(() => {
    const pending = new Map<string, string[]>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let close: (() => void) | null = null;
    let ended = false;
    const controller = new AbortController();
    const flush = () => {
      timer = null;
      for (const key of pending.values()) void queryClient.invalidateQueries({ queryKey: key });
      pending.clear();
    };
    const goLive = (after: string | null) => {
      if (ended) return;
      close = openEventStream({
        token,
        after,
        onStatus: setStatus,
        onEvent: (event) => {
          dispatch({ type: "append", events: [event] });
          for (const key of staleQueryKeys(event)) pending.set(key.join("/"), key);
          if (pending.size && !timer) timer = setTimeout(flush, FLUSH_MS);
        },
        // The browser gives up on 401: asking who we are makes the client sign out if the token expired.
        onGiveUp: () => void api.call("getCurrentPrincipal").catch(() => undefined),
      });
    };
    api
      .call("getEventHistory", { query: { limit: HISTORY_PAGE }, signal: controller.signal })
      .then((page) => {
        if (ended) return;
        dispatch({ type: "seed", events: page.events.map(fromStored) });
        const hasMore = page.has_more ?? false;
        setHistory({ loaded: true, nextBefore: page.next_before ?? null, hasMore, error: null });
        goLive(page.live_after ?? null);
      })
      .catch((err: unknown) => {
        if (ended) return;
        // Without history the log still goes on live, from now; the panel says what failed.
        const error = `The event history could not be loaded: ${errorMessage(err)}`;
        setHistory({ loaded: true, nextBefore: null, hasMore: false, error });
        goLive(null);
      });
    return () => {
      ended = true;
      controller.abort();
      close?.();
      if (timer) clearTimeout(timer);
    };
  }, [token, queryClient]);

  const value = { log, status, history, clear: () => dispatch({ type: "clear" }) };
  return <EventStreamContext.Provider value={value}>{children}</EventStreamContext.Provider>;
}
