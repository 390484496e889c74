import type { StreamEvent } from "../../api/sse";
import { mergeById } from "./history";

/** The event log: the newest history page, then live events; newest at the bottom, at most `cap`, no duplicates. */
export interface EventLogState {
  events: StreamEvent[];
  cap: number;
}

export type EventLogAction =
  { type: "append"; events: StreamEvent[] } | { type: "seed"; events: StreamEvent[] } | { type: "clear" };

export const DEFAULT_CAP = 500;

export function initialEventLog(cap = DEFAULT_CAP): EventLogState {
  return { events: [], cap };
}

export function eventLogReducer(state: EventLogState, action: EventLogAction): EventLogState {
  switch (action.type) {
    case "append": {
      if (action.events.length === 0) return state;
      const seen = new Set<number>();
      for (const e of state.events) if (e.id !== null) seen.add(e.id);
      const fresh: StreamEvent[] = [];
      for (const e of action.events) {
        if (e.id !== null) {
          if (seen.has(e.id)) continue;
          seen.add(e.id);
        }
        fresh.push(e);
      }
      if (fresh.length === 0) return state;
      const merged = state.events.concat(fresh);
      const events = merged.length > state.cap ? merged.slice(merged.length - state.cap) : merged;
      return { ...state, events };
    }
    case "seed": {
      // The history page loaded at start goes before what the stream brought meanwhile.
      const merged = mergeById(action.events, state.events);
      const events = merged.length > state.cap ? merged.slice(merged.length - state.cap) : merged;
      return { ...state, events };
    }
    case "clear":
      return { ...state, events: [] };
  }
}

/** Events of the chosen type ("" = all), optionally of one agent; order kept. */
export function filterEvents(events: StreamEvent[], type: string, agentId?: string | null): StreamEvent[] {
  return events.filter((e) => (!type || e.type === type) && (!agentId || e.agent_id === agentId));
}

/** The distinct types seen, sorted, for the filter menu. */
export function eventTypes(events: StreamEvent[]): string[] {
  return Array.from(new Set(events.map((e) => e.type))).sort();
}

/** Which server data an event makes stale, so panels refresh live instead of polling. */
export function staleQueryKeys(event: StreamEvent): string[][] {
  const keys: string[][] = [];
  const t = event.type;
  if (t.startsWith("AGENT_") || t === "MESSAGE_RECEIVED" || t === "HEARTBEAT_TICK" || t === "SKILL_ATTACHED") {
    keys.push(["agents"]);
  }
  // A run that ends (cancelled, failed...) also ends its pending approvals, and they show its status.
  if (
    t.startsWith("APPROVAL_") ||
    /^RUN_(WAITING_APPROVAL|APPROVAL_DECIDED|CANCELLED|FAILED|COMPLETED|REJECTED)$/.test(t)
  ) {
    keys.push(["approvals"]);
  }
  if (t.startsWith("RUN_") || t.startsWith("DELEGATION_") || t.startsWith("TOOL_RUN_")) keys.push(["runs"]);
  if (t.startsWith("WORKFLOW_")) keys.push(["workflow"]);
  return keys;
}
