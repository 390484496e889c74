import { describe, expect, it } from "vitest";
import { approvalLine, bubbleView, type RunDetail } from "./bubble";
import type { MessageReply } from "./queries";

type Approval = NonNullable<RunDetail["approvals"]>[number];

function approval(status: string, decidedBy: string | null = null, note: string | null = null): Approval {
  return {
    id: "ap1",
    tenant_id: "t",
    agent_id: "a1",
    run_id: "r1",
    step: 1,
    reason: "refund customer order 42",
    status,
    requested_at: "2026-12-03T00:00:00Z",
    decided_at: decidedBy ? "2026-12-03T00:01:00Z" : null,
    decided_by: decidedBy,
    note,
  };
}

function run(over: Partial<RunDetail> = {}): RunDetail {
  return {
    run_id: "r1",
    tenant_id: "t",
    agent_id: "a1",
    kind: "message",
    input: "refund customer order 42",
    status: "completed",
    subagent_state: "none",
    parent_run_id: null,
    last_error: null,
    reply: null,
    created_at: "2026-12-03T00:00:00Z",
    updated_at: "2026-12-03T00:00:00Z",
    finished_at: null,
    allowed_actions: [],
    ...over,
  };
}

const sent: MessageReply = {
  agentId: "a1",
  reply: "Detected 1 task. Waiting for a human to approve the next step.",
  run_id: "r1",
  run_status: "waiting_approval",
  interpretation: {},
  workflowPatch: { summary: "added 1 node", version: 2, unchanged: false },
  actions: [],
  events: [],
  notices: [{ code: "TASKS_UNMATCHED", message: "No skill matched 1 task.", items: ["dance"], count: 1 }],
};

describe("bubbleView", () => {
  it("uses the send's reply until the run is read", () => {
    const view = bubbleView(undefined, sent);
    expect(view).toMatchObject({ text: sent.reply, status: "waiting_approval", approvals: [] });
    expect(view.patch).toEqual({ summary: "added 1 node", version: 2 });
    expect(view.notices.map((n) => n.code)).toEqual(["TASKS_UNMATCHED"]);
  });
  it("follows the stored run: its status, its reply once ended and its decided approval", () => {
    const view = bubbleView(
      run({
        status: "rejected",
        reply: "refund: rejected by a human, not executed.",
        approvals: [approval("rejected", "ana")],
      }),
      sent,
    );
    expect(view.status).toBe("rejected");
    expect(view.text).toMatch(/rejected by a human/);
    expect(view.approvals).toEqual([
      {
        id: "ap1",
        status: "rejected",
        pending: false,
        text: "Rejected — not executed by ana: refund customer order 42",
      },
    ]);
  });
  it("takes notices and the patch from the run's events when the page did not send the message", () => {
    const view = bubbleView(
      run({
        steps: [
          {
            type: "event",
            name: "INTERPRETATION_RESULT",
            at: "2026-12-03T00:00:00Z",
            id: "1",
            payload: {
              notices: [{ code: "TASKS_DROPPED", message: "20 tasks dropped.", items: [], count: 20 }, { bad: 1 }],
            },
          },
          {
            type: "event",
            name: "WORKFLOW_PATCH_APPLIED",
            at: "2026-12-03T00:00:00Z",
            id: "2",
            payload: { summary: "added 20 nodes", version: 3, unchanged: false },
          },
        ],
      }),
      undefined,
    );
    expect(view.notices.map((n) => n.code)).toEqual(["TASKS_DROPPED"]);
    expect(view.patch).toEqual({ summary: "added 20 nodes", version: 3 });
  });
  it("says the skills' results in words unless the reply says them already", () => {
    const step = (summary: string) => ({
      idx: 0,
      kind: "tool",
      name: "t",
      status: "done",
      spec: {},
      result: { summary },
      attempts: 1,
      started_at: null,
      finished_at: null,
    });
    const plan = [step("mail-triage finished: 12 emails, 5 billing"), step("git-watcher finished: 2 changes")];
    const view = bubbleView(run({ plan, reply: "Done. git-watcher finished: 2 changes." }), undefined);
    expect(view.summaries).toEqual(["mail-triage finished: 12 emails, 5 billing"]);
  });
  it("leaves out a patch that changed nothing", () => {
    expect(
      bubbleView(undefined, { ...sent, workflowPatch: { summary: "no changes", unchanged: true } }).patch,
    ).toBeNull();
  });
});

describe("approvalLine", () => {
  it.each([
    ["pending", null, null, "Waiting for a human to approve: refund customer order 42", true],
    ["approved", "ana", "ok", "Approved by ana: refund customer order 42 (“ok”)", false],
    ["rejected", "ana", null, "Rejected — not executed by ana: refund customer order 42", false],
    ["cancelled", "system", null, "Approval cancelled by system: refund customer order 42", false],
    [
      "expired",
      "system",
      "the deadline passed",
      "Approval expired — not executed: refund customer order 42 (“the deadline passed”)",
      false,
    ],
  ] as const)("%s", (status, by, note, text, pending) => {
    expect(approvalLine(approval(status, by, note))).toMatchObject({ text, pending, status });
  });
});
