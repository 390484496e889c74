import type { StreamEvent } from "../../api/sse";
import type { MessageReply } from "./queries";

/** A message sent from this page: shown at once, then joined to its run's stored turn by run id. */
export interface LocalSend {
  localId: number;
  message: string;
  reply?: MessageReply;
  error?: string;
}

/** One exchange of the chat: what was said to the agent and, by its run, what came of it. */
export interface Turn {
  key: string;
  message: string;
  /** "message", or another way a run was opened ("delegate"). */
  kind: string;
  runId: string | null;
  timestamp: string | null;
  reply?: MessageReply;
  error?: string;
}

/** The agent's MESSAGE_RECEIVED events among `events` (history and live, stream order). */
export function messageEvents(events: readonly StreamEvent[], agentId: string): StreamEvent[] {
  return events.filter((e) => e.type === "MESSAGE_RECEIVED" && e.agent_id === agentId);
}

function textOf(event: StreamEvent): { message: string; kind: string } {
  const payload = (event.payload ?? {}) as { message?: unknown; kind?: unknown };
  return {
    message: typeof payload.message === "string" ? payload.message : (event.message ?? ""),
    kind: typeof payload.kind === "string" ? payload.kind : "message",
  };
}

/**
 * The chat, oldest first: one turn per run that a stored MESSAGE_RECEIVED opened, then the sends
 * of this page whose run is not among them yet (still waiting, failed, or not yet heard of). A
 * send's reply joins the stored turn of its run: no message is shown twice.
 */
export function chatTurns(events: readonly StreamEvent[], sends: readonly LocalSend[]): Turn[] {
  const byRun = new Map<string, LocalSend>();
  for (const send of sends) if (send.reply) byRun.set(send.reply.run_id, send);
  const turns: Turn[] = [];
  const seenRuns = new Set<string>();
  for (const event of events) {
    if (event.run_id && seenRuns.has(event.run_id)) continue;
    if (event.run_id) seenRuns.add(event.run_id);
    const { message, kind } = textOf(event);
    const send = event.run_id ? byRun.get(event.run_id) : undefined;
    turns.push({
      key: event.run_id ? `run-${event.run_id}` : `event-${event.id}`,
      message,
      kind,
      runId: event.run_id,
      timestamp: event.timestamp,
      reply: send?.reply,
    });
  }
  for (const send of sends) {
    if (send.reply && seenRuns.has(send.reply.run_id)) continue;
    turns.push({
      key: send.reply ? `run-${send.reply.run_id}` : `local-${send.localId}`,
      message: send.message,
      kind: "message",
      runId: send.reply?.run_id ?? null,
      timestamp: null,
      reply: send.reply,
      error: send.error,
    });
  }
  return turns;
}
