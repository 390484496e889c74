import type { StreamEvent } from "../../api/sse";

/**
 * A run's events as the detail page shows them: older pages from the store in front, live events
 * from the stream behind, each event once (the stream may repeat a few of the newest page's).
 */
export function mergeRunEvents(older: StreamEvent[][], live: StreamEvent[], runId: string): StreamEvent[] {
  const seen = new Set<number>();
  const out: StreamEvent[] = [];
  const add = (e: StreamEvent) => {
    if (e.run_id !== runId) return;
    if (e.id !== null) {
      if (seen.has(e.id)) return;
      seen.add(e.id);
    }
    out.push(e);
  };
  // Pages arrive newest first; each page is oldest first.
  for (let i = older.length - 1; i >= 0; i -= 1) older[i].forEach(add);
  live.forEach(add);
  return out;
}

/** Event types after which the run's detail (status, plan, approvals) has changed. */
export function changesRun(type: string): boolean {
  return (
    type.startsWith("RUN_") ||
    type.startsWith("TOOL_RUN_") ||
    type.startsWith("APPROVAL_") ||
    type.startsWith("DELEGATION_") ||
    type === "STEP_REJECTED" ||
    type === "TASK_EXECUTED"
  );
}
