/** Whether the API can be reached: what the connection banner shows. */
import { ApiError } from "../api/client";

/** A failure that says nothing came back from the server (as opposed to an answer that refuses). */
export function isUnreachable(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 0 || error.status === 502 || error.status === 504);
}

/** A /health probe's outcome: `null` when the request itself failed. */
export function probeReachable(status: number | null): boolean {
  return status !== null && status !== 502 && status !== 504;
}
