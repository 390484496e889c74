import { ApiError, errorMessage } from "../../api/client";

/** A failed send in words for people, not the API's (which names endpoints to call). */
export function sendErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "AGENT_NOT_RUNNING")
      return "Not sent: this agent is stopped. Start it, then send the message again.";
    if (error.code === "NETWORK_ERROR") return "Not sent: the server cannot be reached. Try again once it is back.";
    if (error.code === "BUDGET_EXCEEDED") return `Not sent: a spending cap was reached. ${error.message}`;
  }
  return errorMessage(error);
}

export type ChatAvailability = "ready" | "stopped" | "read-only" | "unknown";

/** Whether the chat input can be used: only for a running agent, by a role that may operate. */
export function chatAvailability(status: string | undefined, canOperate: boolean): ChatAvailability {
  if (!canOperate) return "read-only";
  if (status === undefined) return "unknown";
  return status === "running" ? "ready" : "stopped";
}
