import { describe, expect, it } from "vitest";
import { findReport, readResult, rendererFor, skillOf, withReport } from "./envelope";

const report = { ok: true, generatedAt: "2026-12-03T00:00:00Z", skillName: "mail-triage", data: { emails: [] } };

describe("readResult", () => {
  it("reads a TOOL_RUN_FINISHED payload: the report's data, its artifacts, its ok", () => {
    const read = readResult({
      ok: true,
      skill: "mail-triage",
      artifacts: ["outputs/mail-triage.json", "inputs/x.json", 3],
      skillReport: report,
    });
    expect(read).toMatchObject({ hasReport: true, ok: true, data: { emails: [] }, error: null });
    expect(read.artifacts).toEqual(["outputs/mail-triage.json"]);
  });

  it("reads a bare envelope, and a failed one's error", () => {
    expect(readResult(report)).toMatchObject({ hasReport: true, data: { emails: [] } });
    const failed = readResult({ ok: false, skillName: "x", data: null, error: "inbox file not found" });
    expect(failed).toMatchObject({ ok: false, error: "inbox file not found", data: null });
  });

  it("reads a step result: its summary and artifacts, the result itself as data", () => {
    const step = { ok: true, exit_code: 0, artifacts: ["outputs/a.csv"], summary: "x finished: 3 rows" };
    const read = readResult(step);
    expect(read).toMatchObject({ hasReport: false, summary: "x finished: 3 rows" });
    expect(read.data).toEqual({ ok: true, exit_code: 0 });
    expect(read.artifacts).toEqual(["outputs/a.csv"]);
  });

  it("takes a tool error's message and leaves out blank summaries", () => {
    const read = readResult({ ok: false, summary: "  ", error: { code: "TIMEOUT", message: "took too long" } });
    expect(read).toMatchObject({ ok: false, summary: null, error: "took too long" });
  });

  it("reads plain data and non-objects", () => {
    expect(readResult([1, 2])).toMatchObject({ data: [1, 2], ok: null, artifacts: [] });
    expect(readResult("done")).toMatchObject({ data: "done", hasReport: false });
    expect(readResult(null)).toMatchObject({ data: null });
  });
});

describe("rendererFor", () => {
  it("picks a shipped skill's view when the data has its shape", () => {
    expect(rendererFor("mail-triage", { emails: [], counts: {} })).toBe("mail-triage");
    expect(rendererFor("monthly-bookkeeping", { byCategory: { rent: -1 } })).toBe("monthly-bookkeeping");
    expect(rendererFor("monthly-bookkeeping", { net: 3 })).toBe("monthly-bookkeeping");
    expect(rendererFor("git-watcher", { isGitRepo: false })).toBe("git-watcher");
  });

  it("falls back to the generic view for other skills and unexpected shapes", () => {
    expect(rendererFor("weather", { emails: [] })).toBe("generic");
    expect(rendererFor("mail-triage", { emails: "none" })).toBe("generic");
    expect(rendererFor("mail-triage", [1])).toBe("generic");
    expect(rendererFor("git-watcher", { branch: "main" })).toBe("generic");
    expect(rendererFor("monthly-bookkeeping", null)).toBe("generic");
  });
});

describe("skillOf", () => {
  it("names the skill of a payload or a report", () => {
    expect(skillOf({ skill: "git-watcher" })).toBe("git-watcher");
    expect(skillOf({ skillReport: report })).toBe("mail-triage");
    expect(skillOf(report)).toBe("mail-triage");
    expect(skillOf(42)).toBe("");
  });
});

describe("findReport", () => {
  const finished = (skill: string, took: number, n: number) => ({
    type: "event",
    name: "TOOL_RUN_FINISHED",
    payload: { skill, metrics: { duration_ms: took }, skillReport: { ...report, skillName: skill, data: { n } } },
  });
  const history = [
    { type: "command", name: "start", payload: {} },
    finished("mail-triage", 12.5, 1),
    finished("git-watcher", 3, 2),
    finished("mail-triage", 40, 3),
    { type: "event", name: "RUN_COMPLETED", payload: null },
  ];

  it("finds the step's report by its duration, else the skill's last one", () => {
    expect(findReport(history, "mail-triage", { duration_ms: 12.5 })?.data).toEqual({ n: 1 });
    expect(findReport(history, "mail-triage", { duration_ms: 99 })?.data).toEqual({ n: 3 });
    expect(findReport(history, "git-watcher", {})?.data).toEqual({ n: 2 });
    expect(findReport(history, "weather", {})).toBeNull();
    expect(findReport("nope", "mail-triage", {})).toBeNull();
  });

  it("completes a step's result with the report found", () => {
    const read = withReport(readResult({ ok: true, exit_code: 0, summary: "s", artifacts: ["outputs/a"] }), report);
    expect(read).toMatchObject({ hasReport: true, data: { emails: [] }, summary: "s", artifacts: ["outputs/a"] });
  });
});
