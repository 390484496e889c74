import { describe, expect, it } from "vitest";
import type { StreamEvent } from "../../api/sse";
import { parseStreamEvent } from "../../api/sse";
import { eventLogReducer, eventTypes, filterEvents, initialEventLog, staleQueryKeys } from "./eventLog";

function ev(id: number | null, type = "MESSAGE_RECEIVED", agent = "a"): StreamEvent {
  return {
    id,
    type,
    tenant_id: "t",
    agent_id: agent,
    run_id: null,
    timestamp: "2026-01-01T00:00:00Z",
    message: null,
    payload: { n: id },
  };
}

describe("event log reducer", () => {
  it("appends with the newest last", () => {
    let s = initialEventLog();
    s = eventLogReducer(s, { type: "append", events: [ev(1)] });
    s = eventLogReducer(s, { type: "append", events: [ev(2), ev(3)] });
    expect(s.events.map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it("keeps only the last `cap` events", () => {
    let s = initialEventLog(3);
    for (let i = 1; i <= 5; i++) s = eventLogReducer(s, { type: "append", events: [ev(i)] });
    expect(s.events.map((e) => e.id)).toEqual([3, 4, 5]);
    s = eventLogReducer(s, { type: "append", events: [ev(6), ev(7), ev(8), ev(9)] });
    expect(s.events.map((e) => e.id)).toEqual([7, 8, 9]);
  });

  it("drops events replayed after a reconnect", () => {
    let s = eventLogReducer(initialEventLog(), { type: "append", events: [ev(1), ev(2)] });
    const before = s;
    s = eventLogReducer(s, { type: "append", events: [ev(2)] });
    expect(s).toBe(before);
    s = eventLogReducer(s, { type: "append", events: [ev(2), ev(3), ev(null), ev(null)] });
    expect(s.events.map((e) => e.id)).toEqual([1, 2, 3, null, null]);
  });

  it("clears", () => {
    const s = eventLogReducer(initialEventLog(), { type: "append", events: [ev(1)] });
    expect(eventLogReducer(s, { type: "clear" }).events).toEqual([]);
  });

  it("filters by type and agent, keeping order", () => {
    const events = [ev(1, "RUN_STARTED"), ev(2, "MESSAGE_RECEIVED", "b"), ev(3, "RUN_STARTED", "b")];
    expect(filterEvents(events, "").map((e) => e.id)).toEqual([1, 2, 3]);
    expect(filterEvents(events, "RUN_STARTED").map((e) => e.id)).toEqual([1, 3]);
    expect(filterEvents(events, "RUN_STARTED", "b").map((e) => e.id)).toEqual([3]);
    expect(eventTypes(events)).toEqual(["MESSAGE_RECEIVED", "RUN_STARTED"]);
  });

  it("maps events to the server data they make stale", () => {
    expect(staleQueryKeys(ev(1, "APPROVAL_REQUESTED"))).toEqual([["approvals"]]);
    expect(staleQueryKeys(ev(1, "RUN_PAUSED"))).toEqual([["runs"]]);
    expect(staleQueryKeys(ev(1, "AGENT_STARTED"))).toEqual([["agents"]]);
    // A cancelled run takes its pending approval with it: the approvals refresh too.
    expect(staleQueryKeys(ev(1, "RUN_CANCELLED"))).toEqual([["approvals"], ["runs"]]);
  });
});

describe("stream messages", () => {
  it("parses the server's JSON data", () => {
    const e = parseStreamEvent(
      '{"id":7,"type":"RUN_STARTED","tenant_id":"t","agent_id":"a","run_id":"r","timestamp":"x","payload":{"k":1},"message":"m"}',
    );
    expect(e).toMatchObject({ id: 7, type: "RUN_STARTED", run_id: "r", payload: { k: 1 } });
  });

  it("falls back to the SSE id and ignores junk", () => {
    expect(parseStreamEvent('{"type":"X"}', "12")?.id).toBe(12);
    expect(parseStreamEvent("not json")).toBeNull();
    expect(parseStreamEvent('{"no":"type"}')).toBeNull();
  });
});
