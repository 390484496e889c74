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
