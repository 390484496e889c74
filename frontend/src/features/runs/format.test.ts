import { describe, expect, it } from "vitest";
import { dateTime, elapsed, formatDuration } from "./format";

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [0.04, "0 s"],
    [0.42, "0.4 s"],
    [9.96, "10 s"],
    [12.4, "12 s"],
    [59.6, "1 min"],
    [185, "3 min 5 s"],
    [3600, "1 h"],
    [7380, "2 h 3 min"],
  ])("%s s reads %s", (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });

  it("says unknown rather than a wrong number", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(undefined)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
    expect(formatDuration(-1)).toBe("—");
  });
});

describe("elapsed", () => {
  const now = Date.parse("2026-12-03T12:00:10Z");
  it("measures from start to end, or to now while it goes on", () => {
    expect(elapsed("2026-12-03T12:00:00Z", "2026-12-03T12:00:02.5Z", now)).toBe(2.5);
    expect(elapsed("2026-12-03T12:00:00Z", null, now)).toBe(10);
  });
  it("is unknown without a (readable) start, and never negative", () => {
    expect(elapsed(null, "2026-12-03T12:00:00Z", now)).toBeNull();
    expect(elapsed("garbage", null, now)).toBeNull();
    expect(elapsed("2026-12-03T12:00:20Z", null, now)).toBe(0);
  });
});

describe("dateTime", () => {
  it("shows a dash for no time and the text for an unreadable one", () => {
    expect(dateTime(null)).toBe("—");
    expect(dateTime("not a time")).toBe("not a time");
    expect(dateTime("2026-12-03T12:00:00Z")).toBe(new Date("2026-12-03T12:00:00Z").toLocaleString());
  });
});
