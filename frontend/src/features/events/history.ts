import type { Schemas } from "../../api/client";
import type { StreamEvent } from "../../api/sse";

/**
 * History from the store, paged backwards (newest last on screen), merged with the live stream.
 * Pure: the hooks in ./hooks call the API and keep this state.
 */

export type StoredEvent = Schemas["Event"];
export type EventPage = Schemas["EventPage"];

/** A stored event (GET /events/history) in the shape the live stream gives. */
export function fromStored(event: StoredEvent): StreamEvent {
  return {
    id: event.id,
    position: event.position,
    type: event.type,
    tenant_id: event.tenant_id,
    agent_id: event.agent_id ?? null,
    run_id: event.run_id ?? null,
    timestamp: event.timestamp,
    message: event.message,
    payload: event.payload,
  };
}

/** One list in stream order without duplicates: `older` first, then `newer`; an id seen twice is kept once. */
export function mergeById(older: readonly StreamEvent[], newer: readonly StreamEvent[]): StreamEvent[] {
  const seen = new Set<number>();
  const out: StreamEvent[] = [];
  for (const e of [...older, ...newer]) {
    if (e.id !== null) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
    }
    out.push(e);
  }
  return out;
}

/** Where backwards paging stands: the cursor of the next older page and whether there is one. */
export interface PagingState {
  /** Older pages loaded so far, oldest first (the newest page is the live log's seed). */
  events: StreamEvent[];
  nextBefore: string | null;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  /** Pages loaded since the last reset. */
  pages: number;
}

export type PagingAction =
  | { type: "reset"; nextBefore: string | null; hasMore: boolean }
  | { type: "loading" }
  | { type: "loaded"; page: EventPage }
  | { type: "failed"; error: string };

export function initialPaging(nextBefore: string | null = null, hasMore = false): PagingState {
  return { events: [], nextBefore, hasMore, loading: false, error: null, pages: 0 };
}

export function pagingReducer(state: PagingState, action: PagingAction): PagingState {
  switch (action.type) {
    case "reset":
      return initialPaging(action.nextBefore, action.hasMore);
    case "loading":
      return { ...state, loading: true, error: null };
    case "loaded": {
      const page = action.page.events.map(fromStored);
      return {
        events: mergeById(page, state.events),
        nextBefore: action.page.next_before ?? null,
        hasMore: action.page.has_more ?? false,
        loading: false,
        error: null,
        pages: state.pages + 1,
      };
    }
    case "failed":
      return { ...state, loading: false, error: action.error };
  }
}

/** Whether "Load older" can be asked now. */
export function canLoadOlder(state: PagingState): boolean {
  return state.hasMore && state.nextBefore !== null && !state.loading;
}

/** The event log's filters, kept in the URL: `?type=RUN_COMPLETED&only=agent`. */
export interface LogFilters {
  type: string;
  onlySelected: boolean;
}

const TYPE_FORM = /^[A-Z][A-Z0-9_]{0,63}$/;

export function parseLogFilters(params: URLSearchParams): LogFilters {
  const type = params.get("type") ?? "";
  return { type: TYPE_FORM.test(type) ? type : "", onlySelected: params.get("only") === "agent" };
}

/** `params` with the filters written in (defaults are left out of the URL); other params kept. */
export function writeLogFilters(params: URLSearchParams, filters: LogFilters): URLSearchParams {
  const next = new URLSearchParams(params);
  if (filters.type) next.set("type", filters.type);
  else next.delete("type");
  if (filters.onlySelected) next.set("only", "agent");
  else next.delete("only");
  return next;
}
