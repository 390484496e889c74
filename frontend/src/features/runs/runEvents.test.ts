import { describe, expect, it } from "vitest";
import type { StreamEvent } from "../../api/sse";
import { changesRun, mergeRunEvents } from "./runEvents";

function ev(id: number | null, type = "TOOL_RUN_STARTED", run_id: string | null = "r1"): StreamEvent {
  return {
    id,
    type,
    run_id,
    tenant_id: "t",
    agent_id: "a",
    timestamp: "2026-12-03T12:00:00Z",
    message: "",
    payload: {},
  };
}

describe("mergeRunEvents", () => {
  it("puts older pages first, then the live events, oldest first", () => {
    const newest = [ev(5), ev(6)];
    const older = [ev(3), ev(4)];
    const merged = mergeRunEvents([newest, older], [ev(7)], "r1");
    expect(merged.map((e) => e.id)).toEqual([3, 4, 5, 6, 7]);
  });

  it("drops a live event the newest page already shows (the stream may repeat a few)", () => {
    const merged = mergeRunEvents([[ev(5), ev(6)]], [ev(6), ev(7), ev(7)], "r1");
    expect(merged.map((e) => e.id)).toEqual([5, 6, 7]);
  });

  it("keeps only this run's events", () => {
    const merged = mergeRunEvents([[ev(1), ev(2, "RUN_STARTED", "other")]], [ev(3, "X", null)], "r1");
    expect(merged.map((e) => e.id)).toEqual([1]);
  });

  it("keeps id-less events (an unreadable frame) rather than hiding them", () => {
    expect(mergeRunEvents([], [ev(null), ev(null)], "r1")).toHaveLength(2);
  });
});

describe("changesRun", () => {
  it.each([
    "RUN_PAUSED",
    "RUN_REJECTED",
    "TOOL_RUN_FINISHED",
    "APPROVAL_DECIDED",
    "STEP_REJECTED",
    "DELEGATION_FINISHED",
  ])("%s refreshes the run", (type) => expect(changesRun(type)).toBe(true));
  it.each(["METRIC_RECORDED", "WORKFLOW_PATCH_APPLIED", "AGENT_STARTED"])("%s does not", (type) =>
    expect(changesRun(type)).toBe(false),
  );
});
