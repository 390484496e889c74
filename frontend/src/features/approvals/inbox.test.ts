import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import type { StreamEvent } from "../../api/sse";
import { staleQueryKeys } from "../events/eventLog";
import {
  actorName,
  decisionErrorText,
  guardText,
  isDecidable,
  outcomeText,
  parseStatusFilter,
  progressText,
  sections,
  stageText,
  approversText,
  untilText,
  type Approval,
  type Vote,
} from "./inbox";

function approval(id: string, status: string, extra: Partial<Approval> = {}): Approval {
  return {
    id,
    tenant_id: "t",
    agent_id: "a",
    run_id: "run_1",
    step: 0,
    reason: "refund",
    status,
    requested_at: "2026-12-03T00:00:00Z",
    decided_at: status === "pending" ? null : "2026-12-03T00:01:00Z",
    decided_by: status === "pending" ? null : "ana",
    note: null,
    run: { run_id: "run_1", agent_id: "a", kind: "message", status: "waiting_approval", input: "refund 42" },
    gate: null,
    ...extra,
  };
}

const run = (status: string) => ({ run_id: "run_1", agent_id: "a", kind: "message", status, input: "x" });

describe("isDecidable", () => {
  it("offers a decision only on a pending request whose run has not ended", () => {
    expect(isDecidable(approval("1", "pending"))).toBe(true);
    expect(isDecidable(approval("1", "pending", { run: null, run_id: null }))).toBe(true);
    expect(isDecidable(approval("1", "pending", { run: run("paused") }))).toBe(true);
    for (const ended of ["cancelled", "failed", "completed", "rejected"]) {
      expect(isDecidable(approval("1", "pending", { run: run(ended) }))).toBe(false);
    }
    expect(isDecidable(approval("1", "approved"))).toBe(false);
    expect(isDecidable(approval("1", "cancelled"))).toBe(false);
  });
});

describe("sections", () => {
  it("lists pending, then decided (approved and rejected), then cancelled, order kept", () => {
    const list = [
      approval("p1", "pending"),
      approval("c1", "cancelled"),
      approval("r1", "rejected"),
      approval("p2", "pending", { run: run("cancelled") }),
      approval("a1", "approved"),
      approval("e1", "expired", { decided_by: "system" }),
    ];
    expect(sections(list).map((s) => [s.key, s.approvals.map((a) => a.id)])).toEqual([
      ["pending", ["p1"]],
      ["decided", ["r1", "a1"]],
      ["expired", ["e1"]],
      ["cancelled", ["c1", "p2"]],
    ]);
    expect(sections(list).find((s) => s.key === "expired")?.title).toBe("Expired");
    expect(isDecidable(approval("e1", "expired"))).toBe(false);
    expect(sections([])).toEqual([]);
  });
});

describe("words", () => {
  it("names who ended a request, the system when nobody did", () => {
    expect(outcomeText(approval("1", "approved"))).toBe("Approved by ana");
    expect(outcomeText(approval("1", "rejected"))).toBe("Rejected by ana");
    expect(outcomeText(approval("1", "cancelled", { decided_by: "system" }))).toBe("Cancelled by the system");
    expect(outcomeText(approval("1", "pending"))).toBeNull();
    expect(outcomeText(approval("1", "pending", { run: run("cancelled") }))).toBe("Cancelled: its run is cancelled");
    expect(actorName(null)).toBe("the system");
    expect(outcomeText(approval("1", "expired", { decided_by: "system" }))).toBe("Expired: its step was rejected");
  });

  it("says what a guarded step will do", () => {
    const step = { idx: 2, kind: "tool", name: "Run mail-triage", status: "pending", skill: "mail-triage" };
    expect(guardText(step)).toBe("run the skill mail-triage");
    expect(guardText({ ...step, kind: "delegate", skill: null, target_agent_id: "b", task: "pay" })).toBe(
      "ask agent b: pay",
    );
    expect(guardText({ ...step, kind: "task", skill: null, task: "refund order 42" })).toBe("refund order 42");
    expect(guardText({ ...step, kind: "task", skill: null })).toBe("Run mail-triage");
  });

  it("explains refused decisions", () => {
    const taken = new ApiError("approval 'apr_1' was already cancelled by ana", 409, "ALREADY_DECIDED");
    expect(decisionErrorText(taken)).toMatch(/already cancelled by ana\. It can no longer be decided/);
    expect(decisionErrorText(new ApiError("run 'r' is paused, not waiting", 409, "RUN_NOT_WAITING"))).toMatch(
      /no longer waiting/,
    );
    expect(decisionErrorText(new ApiError("nope", 403, "FORBIDDEN"))).toBe("Your role may not decide approvals.");
    expect(decisionErrorText(new ApiError("own", 403, "SELF_APPROVAL"))).toMatch(/someone else must approve/);
    expect(decisionErrorText(new ApiError("who", 403, "NOT_AN_APPROVER"))).toMatch(
      /not one of this request's approvers/,
    );
    expect(decisionErrorText(new ApiError("again", 409, "ALREADY_VOTED"))).toMatch(/voted on this request already/);
    expect(decisionErrorText(new ApiError("late", 409, "DEADLINE_PASSED"))).toMatch(/deadline has passed/);
    expect(decisionErrorText(new Error("Cannot reach the server"))).toBe(
      "The decision was not recorded: Cannot reach the server",
    );
  });

  it("reads the status filter from the URL", () => {
    expect(parseStatusFilter("rejected")).toBe("rejected");
    expect(parseStatusFilter("expired")).toBe("expired");
    expect(parseStatusFilter("lapsed")).toBe("");
    expect(parseStatusFilter(null)).toBe("");
  });
});

describe("policy progress", () => {
  const vote = (subject: string, decision: string, stage = 0): Vote => ({
    subject,
    role: "operator",
    decision,
    stage,
    note: null,
    at: "2026-12-03T00:02:00Z",
  });
  const governed = (extra: Partial<Approval> = {}) =>
    approval("1", "pending", {
      policy: true,
      required: 2,
      stage: 0,
      approvers: { roles: ["operator"], subjects: ["cfo"] },
      votes: [vote("ana", "approved")],
      ...extra,
    });

  it("counts the approve votes of the current stage against those it needs", () => {
    expect(progressText(governed())).toBe("1 of 2 approvals");
    expect(progressText(governed({ votes: [] }))).toBe("0 of 2 approvals");
    expect(progressText(governed({ required: 1, votes: [] }))).toBe("0 of 1 approval");
    // A vote of an earlier stage does not count at the next one.
    expect(progressText(governed({ stage: 1, votes: [vote("ana", "approved", 0)] }))).toBe("0 of 2 approvals");
    expect(progressText(approval("1", "pending"))).toBeNull(); // no policy: one decision, no count
  });

  it("names the stage from 1 and who may approve", () => {
    expect(stageText(governed())).toBe("stage 1");
    expect(stageText(governed({ stage: 1 }))).toBe("stage 2");
    expect(stageText(approval("1", "pending"))).toBeNull();
    expect(approversText(governed())).toBe("operators, or cfo");
    expect(approversText(governed({ approvers: { roles: [], subjects: [] } }))).toBe("nobody");
  });

  it("says how long until a deadline", () => {
    const now = Date.parse("2026-12-03T00:00:00Z");
    expect(untilText("2026-12-03T00:00:30Z", now)).toBe("in 30 s");
    expect(untilText("2026-12-03T00:10:00Z", now)).toBe("in 10 min");
    expect(untilText("2026-12-03T05:00:00Z", now)).toBe("in 5 h");
    expect(untilText("2026-12-06T00:00:00Z", now)).toBe("in 3 d");
    expect(untilText("2026-12-02T23:59:00Z", now)).toBe("passed");
  });
});

describe("live updates", () => {
  const ev = (type: string): StreamEvent => ({
    id: 1,
    type,
    tenant_id: "t",
    agent_id: "a",
    run_id: "r",
    timestamp: "x",
    message: null,
    payload: null,
  });
  it("refreshes the approvals when a run ends (a cancel ends its pending approvals)", () => {
    for (const type of [
      "RUN_CANCELLED",
      "RUN_FAILED",
      "RUN_COMPLETED",
      "RUN_REJECTED",
      "APPROVAL_DECIDED",
      "APPROVAL_ESCALATED",
      "APPROVAL_EXPIRED",
    ]) {
      expect(staleQueryKeys(ev(type))).toContainEqual(["approvals"]);
    }
    expect(staleQueryKeys(ev("RUN_STARTED"))).not.toContainEqual(["approvals"]);
  });
});
