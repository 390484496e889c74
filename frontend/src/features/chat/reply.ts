import type { MessageReply, ReplyAction } from "./queries";

/** `workflowPatch.summary` when the reply changed the workflow, else null. */
export function patchSummary(reply: MessageReply): { summary: string; version: number | null } | null {
  const patch = reply.workflowPatch as { summary?: unknown; version?: unknown } | null;
  if (!patch || typeof patch.summary !== "string" || !patch.summary) return null;
  return { summary: patch.summary, version: typeof patch.version === "number" ? patch.version : null };
}

/** The approval an action waits for, if it is a `human_approval_required` action. */
export function approvalIdOf(action: ReplyAction): string | null {
  if (action.type !== "human_approval_required") return null;
  const id = (action.detail as { approval_id?: unknown } | null)?.approval_id;
  return typeof id === "string" && id ? id : null;
}

export function actionLabel(action: ReplyAction): string {
  const detail = (action.detail ?? {}) as { reason?: unknown; error?: { message?: unknown } | null };
  const parts = [action.type.replace(/[._]/g, " ")];
  if (action.skill) parts.push(`· ${action.skill}`);
  if (typeof detail.reason === "string" && detail.reason) parts.push(`— ${detail.reason}`);
  if (detail.error && typeof detail.error.message === "string") parts.push(`(error: ${detail.error.message})`);
  return parts.join(" ");
}
