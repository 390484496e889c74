import type { Schemas } from "../../api/client";
import type { MessageReply } from "./queries";

export type RunDetail = Schemas["RunRead"];
export type Notice = Schemas["Notice"];

export interface ApprovalLine {
  id: string;
  status: string;
  text: string;
  pending: boolean;
}

/** What a reply bubble shows, from the run as stored now (live) and the send's own reply. */
export interface BubbleView {
  text: string;
  status: string | null;
  notices: Notice[];
  summaries: string[];
  approvals: ApprovalLine[];
  patch: { summary: string; version: number | null } | null;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function isNotice(value: unknown): value is Notice {
  const n = record(value);
  return typeof n.code === "string" && typeof n.message === "string";
}

/** The run's events (its detail's history) of one type, oldest first. */
function eventsNamed(run: RunDetail | undefined, name: string): Record<string, unknown>[] {
  return (run?.steps ?? []).filter((s) => s.type === "event" && s.name === name).map((s) => record(s.payload));
}

function noticesOf(run: RunDetail | undefined, reply: MessageReply | undefined): Notice[] {
  if (reply?.notices?.length) return reply.notices;
  const understood = eventsNamed(run, "INTERPRETATION_RESULT")[0];
  const stored = understood?.notices;
  return Array.isArray(stored) ? stored.filter(isNotice) : [];
}

function patchOf(run: RunDetail | undefined, reply: MessageReply | undefined): BubbleView["patch"] {
  const fromReply = record(reply?.workflowPatch);
  const applied = fromReply.summary !== undefined ? fromReply : (eventsNamed(run, "WORKFLOW_PATCH_APPLIED")[0] ?? {});
  if (typeof applied.summary !== "string" || !applied.summary || applied.unchanged === true) return null;
  return { summary: applied.summary, version: typeof applied.version === "number" ? applied.version : null };
}

/** A tool step's result said in words (`summary` on its result), for the steps that finished. */
function summariesOf(run: RunDetail | undefined): string[] {
  return (run?.plan ?? [])
    .map((step) => record(step.result).summary)
    .filter((s): s is string => typeof s === "string" && s.length > 0);
}

const APPROVAL_WORDS: Record<string, string> = {
  pending: "Waiting for a human to approve",
  approved: "Approved",
  rejected: "Rejected — not executed",
  cancelled: "Approval cancelled",
  expired: "Approval expired — not executed",
};

export function approvalLine(a: Schemas["ApprovalRead"]): ApprovalLine {
  const words = APPROVAL_WORDS[a.status] ?? a.status;
  // An expired request ended by its deadline (or because nobody could approve it), not by a person.
  const by = a.decided_by && a.status !== "pending" && a.status !== "expired" ? ` by ${a.decided_by}` : "";
  const note = a.note ? ` (“${a.note}”)` : "";
  return { id: a.id, status: a.status, text: `${words}${by}: ${a.reason}${note}`, pending: a.status === "pending" };
}

export function bubbleView(run: RunDetail | undefined, reply: MessageReply | undefined): BubbleView {
  // The stored reply is written when the run ends; until then the send's reply says what is known.
  const text = run?.reply ?? reply?.reply ?? "";
  return {
    text,
    status: run?.status ?? reply?.run_status ?? null,
    notices: noticesOf(run, reply),
    // What the reply text does not say already.
    summaries: summariesOf(run).filter((s) => !text.includes(s)),
    approvals: (run?.approvals ?? []).map(approvalLine),
    patch: patchOf(run, reply),
  };
}
