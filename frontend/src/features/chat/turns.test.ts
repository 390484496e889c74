import { describe, expect, it } from "vitest";
import type { StreamEvent } from "../../api/sse";
import type { MessageReply } from "./queries";
import { chatTurns, messageEvents } from "./turns";

function received(id: number, runId: string, message: string, agentId = "a1", kind = "message"): StreamEvent {
  return {
    id,
    position: String(id),
    type: "MESSAGE_RECEIVED",
    tenant_id: "t",
    agent_id: agentId,
    run_id: runId,
    timestamp: "2026-12-03T00:00:00Z",
    message: message.slice(0, 200),
    payload: { message, kind },
  };
}

function reply(runId: string): MessageReply {
  return {
    agentId: "a1",
    reply: `done ${runId}`,
    run_id: runId,
    run_status: "completed",
    interpretation: {},
    workflowPatch: {},
    actions: [],
    events: [],
  };
}

describe("messageEvents", () => {
  it("keeps the agent's MESSAGE_RECEIVED events only", () => {
    const other = { ...received(2, "r2", "x"), type: "RUN_COMPLETED" };
    const events = [received(1, "r1", "hi"), other, received(3, "r3", "yo", "a2")];
    expect(messageEvents(events, "a1").map((e) => e.id)).toEqual([1]);
  });
});

describe("chatTurns", () => {
  it("makes one turn per stored message, oldest first, with the full text", () => {
    const long = "x".repeat(300);
    const turns = chatTurns([received(1, "r1", "hello"), received(2, "r2", long)], []);
    expect(turns.map((t) => [t.key, t.runId])).toEqual([
      ["run-r1", "r1"],
      ["run-r2", "r2"],
    ]);
    expect(turns[1].message).toHaveLength(300);
  });
  it("joins a send's reply to the stored turn of its run: the message shows once", () => {
    const turns = chatTurns([received(1, "r1", "hello")], [{ localId: 0, message: "hello", reply: reply("r1") }]);
    expect(turns).toHaveLength(1);
    expect(turns[0].reply?.reply).toBe("done r1");
  });
  it("shows sends not stored yet at the end: waiting, failed, or answered before the event came", () => {
    const turns = chatTurns(
      [received(1, "r1", "old")],
      [
        { localId: 0, message: "answered", reply: reply("r9") },
        { localId: 1, message: "waiting" },
        { localId: 2, message: "refused", error: "Not sent: this agent is stopped." },
      ],
    );
    expect(turns.map((t) => t.key)).toEqual(["run-r1", "run-r9", "local-1", "local-2"]);
    expect(turns[2].runId).toBeNull();
    expect(turns[3].error).toMatch(/stopped/);
  });
  it("keeps one turn per run and says how a run was opened", () => {
    const turns = chatTurns(
      [received(1, "r1", "hi"), received(2, "r1", "hi"), received(3, "r2", "go", "a1", "delegate")],
      [],
    );
    expect(turns.map((t) => [t.runId, t.kind])).toEqual([
      ["r1", "message"],
      ["r2", "delegate"],
    ]);
  });
});
