import { describe, expect, it } from "vitest";
import type { StreamEvent } from "../../api/sse";
import { eventsAfter, isChangeOf, isRunActivityOf, runIdsOf, runStateSignature } from "./live";
import { parseTargetValue, targetFromParams, targetValue } from "./queries";

function ev(type: string, agent: string | null, payload: unknown = {}): StreamEvent {
  return {
    id: 1,
    type,
    tenant_id: "t",
    agent_id: agent,
    run_id: null,
    timestamp: "2026-01-01T00:00:00Z",
    message: null,
    payload,
  };
}

describe("workflow events", () => {
  const agentWf = { id: "agent-wf-a1", agent_id: "a1" };
  const standalone = { id: "wf-1", agent_id: null };

  it("matches a patch or a new version of this workflow by its id", () => {
    expect(isChangeOf(ev("WORKFLOW_PATCH_APPLIED", "a1", { workflowId: "agent-wf-a1", version: 2 }), agentWf)).toBe(
      true,
    );
    expect(isChangeOf(ev("WORKFLOW_VERSION_CREATED", null, { workflowId: "wf-1" }), standalone)).toBe(true);
    expect(isChangeOf(ev("WORKFLOW_VERSION_CREATED", null, { workflowId: "wf-2" }), standalone)).toBe(false);
  });

  it("falls back to the agent when the payload names no workflow", () => {
    expect(isChangeOf(ev("WORKFLOW_PATCH_APPLIED", "a1", null), agentWf)).toBe(true);
    expect(isChangeOf(ev("WORKFLOW_PATCH_APPLIED", "a2", null), agentWf)).toBe(false);
    expect(isChangeOf(ev("WORKFLOW_PATCH_APPLIED", "a1", null), standalone)).toBe(false);
  });

  it("ignores other event types", () => {
    expect(isChangeOf(ev("WORKFLOW_PATCH_PROPOSED", "a1", { workflowId: "agent-wf-a1" }), agentWf)).toBe(false);
    expect(isChangeOf(ev("MESSAGE_RECEIVED", "a1", { workflowId: "agent-wf-a1" }), agentWf)).toBe(false);
  });

  it("finds the events after the last one seen", () => {
    const [a, b, c] = [ev("X", null), ev("Y", null), ev("Z", null)];
    expect(eventsAfter([a, b, c], a)).toEqual([b, c]);
    expect(eventsAfter([a, b, c], c)).toEqual([]);
    expect(eventsAfter([b, c], null)).toEqual([b, c]);
    expect(eventsAfter([b, c], ev("gone", null))).toEqual([b, c]);
  });
});

describe("workflow target in the URL", () => {
  it("reads ?agent= and ?workflow=", () => {
    expect(targetFromParams(new URLSearchParams("agent=a1"))).toEqual({ kind: "agent", id: "a1" });
    expect(targetFromParams(new URLSearchParams("workflow=wf-1"))).toEqual({ kind: "workflow", id: "wf-1" });
    expect(targetFromParams(new URLSearchParams(""))).toBeNull();
  });

  it("round-trips the picker's values", () => {
    for (const t of [
      { kind: "agent", id: "a:1" },
      { kind: "workflow", id: "wf-1" },
    ] as const) {
      expect(parseTargetValue(targetValue(t))).toEqual(t);
    }
    expect(parseTargetValue("")).toBeNull();
    expect(parseTargetValue("other:x")).toBeNull();
    expect(parseTargetValue("agent:")).toBeNull();
  });
});

describe("run activity on a workflow's nodes", () => {
  const event = (type: string, agent_id: string | null = "a1"): StreamEvent => ({
    id: 1,
    type,
    tenant_id: "t",
    agent_id,
    run_id: "r1",
    timestamp: "2026-12-03T00:00:00Z",
    message: null,
    payload: null,
  });
  it("counts run and step events of the workflow's agent", () => {
    for (const type of ["RUN_COMPLETED", "RUN_REJECTED", "TOOL_RUN_FINISHED", "STEP_REJECTED", "APPROVAL_DECIDED"])
      expect(isRunActivityOf(event(type), { agent_id: "a1" })).toBe(true);
    expect(isRunActivityOf(event("METRIC_RECORDED"), { agent_id: "a1" })).toBe(false);
    expect(isRunActivityOf(event("RUN_COMPLETED", "a2"), { agent_id: "a1" })).toBe(false);
    expect(isRunActivityOf(event("RUN_COMPLETED"), { agent_id: null })).toBe(false);
  });
  it("tells when a node's status or runs changed", () => {
    const before = [{ id: "n1", status: "active", runIds: ["r1"] }, { id: "n2" }];
    expect(runStateSignature(before)).toBe(
      runStateSignature([
        { id: "n1", status: "active", runIds: ["r1"] },
        { id: "n2", status: "pending" },
      ]),
    );
    expect(runStateSignature(before)).not.toBe(
      runStateSignature([{ id: "n1", status: "done", runIds: ["r1"] }, { id: "n2" }]),
    );
    expect(runStateSignature(before)).not.toBe(
      runStateSignature([{ id: "n1", status: "active", runIds: ["r2", "r1"] }, { id: "n2" }]),
    );
    expect(runIdsOf({ runIds: ["r2", 3, "r1"] })).toEqual(["r2", "r1"]);
    expect(runIdsOf({})).toEqual([]);
  });
});
