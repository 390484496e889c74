import type { StreamEvent } from "../../api/sse";
import type { Workflow } from "./graph";

/** The event types that mean a workflow has a new version (talkative/events/schemas.py EventType). */
export const WORKFLOW_CHANGE_TYPES: readonly string[] = ["WORKFLOW_PATCH_APPLIED", "WORKFLOW_VERSION_CREATED"];

function payloadWorkflowId(event: StreamEvent): string | null {
  const payload = event.payload as { workflowId?: unknown } | null;
  return payload && typeof payload === "object" && typeof payload.workflowId === "string" ? payload.workflowId : null;
}

/** Whether the event says this workflow changed: by its id in the payload, else by its agent. */
export function isChangeOf(event: StreamEvent, workflow: Pick<Workflow, "id" | "agent_id">): boolean {
  if (!WORKFLOW_CHANGE_TYPES.includes(event.type)) return false;
  const id = payloadWorkflowId(event);
  if (id !== null) return id === workflow.id;
  return !!workflow.agent_id && event.agent_id === workflow.agent_id;
}

/** The events that arrived after `last` (all of them when `last` is no longer in the log). */
export function eventsAfter(events: readonly StreamEvent[], last: StreamEvent | null): readonly StreamEvent[] {
  if (last === null) return events;
  const at = events.lastIndexOf(last);
  return at === -1 ? events : events.slice(at + 1);
}

/** The events that mean a run did something to an agent's nodes (their derived status and runs). */
export function isRunActivityOf(event: StreamEvent, workflow: Pick<Workflow, "agent_id">): boolean {
  if (!workflow.agent_id || event.agent_id !== workflow.agent_id) return false;
  const t = event.type;
  return (
    t.startsWith("RUN_") ||
    t === "TOOL_RUN_FINISHED" ||
    t === "TASK_EXECUTED" ||
    t === "STEP_REJECTED" ||
    t === "APPROVAL_DECIDED" ||
    t === "DELEGATION_FINISHED"
  );
}

/** A node's latest runs, newest first (the read API's `runIds`). */
export function runIdsOf(node: object): string[] {
  const ids = (node as { runIds?: unknown }).runIds;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
}

/** What the runs left on the nodes (status and runs per node), to tell when a refetch brought news. */
export function runStateSignature(nodes: readonly { id: string; status?: string | null; runIds?: unknown }[]): string {
  return nodes.map((n) => `${n.id}:${n.status ?? "pending"}:${runIdsOf(n).join(",")}`).join("|");
}
