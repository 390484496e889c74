import { createContext, useContext, useEffect, useReducer, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../../../api";
import { openEventStream, type StreamStatus } from "../../../api/sse";
import { useSession } from "../../auth/session";
import { eventLogReducer, initialEventLog, staleQueryKeys, type EventLogState } from "../eventLog";

interface EventStream {
  log: EventLogState;
  status: StreamStatus;
  clear: () => void;
}

const EventStreamContext = createContext<EventStream | null>(null);

export function useEventStream(): EventStream {
  const value = useContext(EventStreamContext);
  if (!value) throw new Error("useEventStream outside <EventStreamProvider>");
  return value;
}

const FLUSH_MS = 250;

/**
 * One SSE connection for the whole app: feeds the event log and marks the affected server
 * data stale, so panels update live without polling.
 */
export function EventStreamProvider({ children }: { children: ReactNode }) {
  const { token } = useSession();
  const queryClient = useQueryClient();
  const [log, dispatch] = useReducer(eventLogReducer, undefined, () => initialEventLog());
  const [status, setStatus] = useState<StreamStatus>("connecting");

  useEffect(() => {
    const pending = new Map<string, string[]>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      for (const key of pending.values()) void queryClient.invalidateQueries({ queryKey: key });
      pending.clear();
    };
    const close = openEventStream({
      token,
      onStatus: setStatus,
      onEvent: (event) => {
        dispatch({ type: "append", events: [event] });
        for (const key of staleQueryKeys(event)) pending.set(key.join("/"), key);
        if (pending.size && !timer) timer = setTimeout(flush, FLUSH_MS);
      },
      // The browser gives up on 401: asking who we are makes the client sign out if the token expired.
      onGiveUp: () => void api.call("getCurrentPrincipal").catch(() => undefined),
    });
    return () => {
      close();
      if (timer) clearTimeout(timer);
    };
  }, [token, queryClient]);

  const value = { log, status, clear: () => dispatch({ type: "clear" }) };
  return <EventStreamContext.Provider value={value}>{children}</EventStreamContext.Provider>;
}
