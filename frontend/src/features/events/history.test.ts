import { describe, expect, it } from "vitest";
import { parseStreamEvent, streamUrl, type StreamEvent } from "../../api/sse";
import { eventLogReducer, initialEventLog } from "./eventLog";
import {
  canLoadOlder,
  fromStored,
  initialPaging,
  mergeById,
  pagingReducer,
  parseLogFilters,
  writeLogFilters,
  type EventPage,
  type StoredEvent,
} from "./history";

function ev(id: number, type = "X"): StreamEvent {
  return {
    id,
    position: String(id),
    type,
    tenant_id: "t",
    agent_id: "a",
    run_id: null,
    timestamp: "2026-12-03T00:00:00Z",
    message: "",
    payload: {},
  };
}

function stored(id: number, position = String(id)): StoredEvent {
  return {
    id,
    position,
    type: "RUN_COMPLETED",
    tenant_id: "t",
    agent_id: "a",
    run_id: "r1",
    message: "m",
    payload: { k: 1 },
    timestamp: "2026-12-03T00:00:00Z",
  };
}

function page(ids: number[], more: { has_more?: boolean; next_before?: string | null } = {}): EventPage {
  return { events: ids.map((id) => stored(id)), live_after: null, ...more };
}

describe("mergeById", () => {
  it("puts the older list first and keeps an id seen twice once", () => {
    const merged = mergeById([ev(1), ev(2), ev(3)], [ev(3), ev(4)]);
    expect(merged.map((e) => e.id)).toEqual([1, 2, 3, 4]);
  });
  it("keeps events without an id", () => {
    const anon = { ...ev(0), id: null };
    expect(mergeById([anon], [anon, ev(1)])).toHaveLength(3);
  });
});

describe("fromStored", () => {
  it("keeps the position the stream resumes from", () => {
    const e = fromStored(stored(7, "99.7"));
    expect(e).toMatchObject({ id: 7, position: "99.7", run_id: "r1", payload: { k: 1 } });
  });
});

describe("the event log seeded with history", () => {
  it("puts the history page before live events that arrived meanwhile, without duplicates", () => {
    let state = eventLogReducer(initialEventLog(), { type: "append", events: [ev(5), ev(6)] });
    state = eventLogReducer(state, { type: "seed", events: [ev(3), ev(4), ev(5)] });
    expect(state.events.map((e) => e.id)).toEqual([3, 4, 5, 6]);
    // The stream repeating an event of the page after a reconnect adds nothing.
    state = eventLogReducer(state, { type: "append", events: [ev(4), ev(6), ev(7)] });
    expect(state.events.map((e) => e.id)).toEqual([3, 4, 5, 6, 7]);
  });
  it("keeps the newest `cap` events", () => {
    const state = eventLogReducer(initialEventLog(2), { type: "seed", events: [ev(1), ev(2), ev(3)] });
    expect(state.events.map((e) => e.id)).toEqual([2, 3]);
  });
});

describe("paging backwards", () => {
  it("starts from the cursor of the page before what is shown", () => {
    const state = initialPaging("40", true);
    expect(state).toMatchObject({ nextBefore: "40", hasMore: true, pages: 0 });
    expect(canLoadOlder(state)).toBe(true);
    expect(canLoadOlder(initialPaging(null, false))).toBe(false);
  });
  it("puts each older page first and follows its cursor until there is no more", () => {
    let state = initialPaging("40", true);
    state = pagingReducer(state, { type: "loading" });
    expect(canLoadOlder(state)).toBe(false); // one request at a time
    state = pagingReducer(state, { type: "loaded", page: page([30, 31], { has_more: true, next_before: "30" }) });
    expect(state.events.map((e) => e.id)).toEqual([30, 31]);
    expect(state).toMatchObject({ nextBefore: "30", hasMore: true, loading: false, pages: 1 });
    state = pagingReducer(state, { type: "loaded", page: page([10, 20, 30]) });
    expect(state.events.map((e) => e.id)).toEqual([10, 20, 30, 31]);
    expect(state).toMatchObject({ nextBefore: null, hasMore: false, pages: 2 });
    expect(canLoadOlder(state)).toBe(false);
  });
  it("keeps what it has and says what failed, then can try again", () => {
    let state = pagingReducer(initialPaging("40", true), {
      type: "loaded",
      page: page([39], { has_more: true, next_before: "39" }),
    });
    state = pagingReducer(pagingReducer(state, { type: "loading" }), { type: "failed", error: "offline" });
    expect(state).toMatchObject({ error: "offline", loading: false, nextBefore: "39" });
    expect(state.events).toHaveLength(1);
    expect(canLoadOlder(state)).toBe(true);
  });
  it("forgets the pages of other filters on reset", () => {
    const state = pagingReducer(pagingReducer(initialPaging("40", true), { type: "loaded", page: page([1]) }), {
      type: "reset",
      nextBefore: "9",
      hasMore: true,
    });
    expect(state).toEqual(initialPaging("9", true));
  });
});

describe("the event log's filters in the URL", () => {
  it("reads the type and the selected-agent toggle", () => {
    expect(parseLogFilters(new URLSearchParams("agent=a1&type=RUN_COMPLETED&only=agent"))).toEqual({
      type: "RUN_COMPLETED",
      onlySelected: true,
    });
    expect(parseLogFilters(new URLSearchParams("agent=a1"))).toEqual({ type: "", onlySelected: false });
  });
  it("ignores what is not an event type", () => {
    expect(parseLogFilters(new URLSearchParams("type=<script>&only=yes")).type).toBe("");
    expect(parseLogFilters(new URLSearchParams("only=yes")).onlySelected).toBe(false);
  });
  it("writes the filters, leaves defaults out and keeps the other parameters", () => {
    const params = new URLSearchParams("agent=a1&type=OLD");
    const on = writeLogFilters(params, { type: "RUN_FAILED", onlySelected: true });
    expect(on.toString()).toBe("agent=a1&type=RUN_FAILED&only=agent");
    const off = writeLogFilters(on, { type: "", onlySelected: false });
    expect(off.toString()).toBe("agent=a1");
    expect(params.toString()).toBe("agent=a1&type=OLD"); // not changed in place
  });
  it("reads back what it wrote", () => {
    const filters = { type: "TOOL_RUN_FINISHED", onlySelected: true };
    expect(parseLogFilters(writeLogFilters(new URLSearchParams(), filters))).toEqual(filters);
  });
});

describe("the stream's resume position", () => {
  it("is the event's position, else the SSE id", () => {
    expect(parseStreamEvent('{"id":5,"position":"88.5","type":"X"}', "88.5")?.position).toBe("88.5");
    expect(parseStreamEvent('{"id":5,"type":"X"}', "77.5")?.position).toBe("77.5");
    expect(parseStreamEvent('{"id":5,"type":"X"}')?.position).toBe("5");
  });
  it("goes in ?after= when the stream is opened after a history page", () => {
    expect(streamUrl("", "tok", "88.5")).toBe("/events?access_token=tok&after=88.5");
    expect(streamUrl("", "tok", null)).toBe("/events?access_token=tok");
  });
});
