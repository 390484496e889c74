import { describe, expect, it } from "vitest";
import { isFinished, runControls, statusExplanation } from "./controls";

describe("runControls", () => {
  it.each([
    ["pending", ["pause", "cancel"]],
    ["running", ["pause", "cancel"]],
    ["paused", ["resume", "cancel"]],
    ["waiting_approval", ["cancel"]],
    ["completed", []],
    ["rejected", []],
    ["failed", []],
    ["cancelled", []],
    ["something-new", []],
  ])("a %s run offers %j to an operator", (status, expected) => {
    expect(runControls(status, undefined, true)).toEqual(expected);
  });

  it("offers nothing to a role that may not operate", () => {
    expect(runControls("running", ["pause", "cancel"], false)).toEqual([]);
    expect(runControls("paused", ["resume", "cancel"], false)).toEqual([]);
  });

  it("follows the server's allowed_actions, which has the last word", () => {
    expect(runControls("running", ["cancel", "complete", "fail"], true)).toEqual(["cancel"]);
    // Internal moves the server lists (start, fail, ...) never become buttons.
    expect(runControls("pending", ["cancel", "fail", "pause", "start"], true)).toEqual(["pause", "cancel"]);
    expect(runControls("paused", [], true)).toEqual([]);
  });
});

describe("statuses in words", () => {
  it("says a rejected run is not completed", () => {
    expect(statusExplanation("rejected")).toMatch(/not completed/);
    expect(statusExplanation("completed")).toBeNull();
  });
  it("knows which statuses are final", () => {
    expect(["completed", "rejected", "failed", "cancelled"].every(isFinished)).toBe(true);
    expect(["pending", "running", "paused", "waiting_approval"].some(isFinished)).toBe(false);
  });
});
