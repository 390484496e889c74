import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { SaveBody } from "./graph";

/** What the editor shows: an agent's own workflow, or a standalone one by id. */
export type WorkflowTarget = { kind: "agent"; id: string } | { kind: "workflow"; id: string };

/** How many versions the history lists. */
export const VERSION_LIMIT = 50;

// Every key starts with "workflow": the event stream marks ["workflow"] stale on WORKFLOW_* events.
export const workflowKeys = {
  all: ["workflow"] as const,
  list: ["workflow", "list"] as const,
  target: (target: WorkflowTarget | null) => ["workflow", target?.kind ?? "none", target?.id ?? ""] as const,
};

export function targetFromParams(params: URLSearchParams): WorkflowTarget | null {
  const workflow = params.get("workflow");
  if (workflow) return { kind: "workflow", id: workflow };
  const agent = params.get("agent");
  if (agent) return { kind: "agent", id: agent };
  return null;
}

/** `agent:<id>` / `workflow:<id>`, the picker's option values. */
export function targetValue(target: WorkflowTarget | null): string {
  return target ? `${target.kind}:${target.id}` : "";
}

export function parseTargetValue(value: string): WorkflowTarget | null {
  const at = value.indexOf(":");
  const kind = value.slice(0, at);
  const id = value.slice(at + 1);
  if (at < 0 || !id || (kind !== "agent" && kind !== "workflow")) return null;
  return { kind, id };
}

/** Standalone workflows (agents' own workflows are picked by agent). */
export function useWorkflows() {
  return useQuery({
    queryKey: workflowKeys.list,
    queryFn: ({ signal }) => api.call("listWorkflows", { signal }),
    select: (page) => page.workflows.filter((w) => w.agent_id === null),
  });
}

/** The workflow with its newest versions. */
export function useWorkflow(target: WorkflowTarget | null) {
  return useQuery({
    queryKey: workflowKeys.target(target),
    queryFn: ({ signal }) =>
      target?.kind === "agent"
        ? api.call("getAgentWorkflow", { path: { agent_id: target.id }, query: { limit: VERSION_LIMIT }, signal })
        : api.call("getWorkflow", { path: { workflow_id: target?.id ?? "" }, query: { limit: VERSION_LIMIT }, signal }),
    enabled: !!target,
  });
}

/** POST /workflow: creates a workflow, or saves a new version of `body.id`. */
export function useSaveWorkflow() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: SaveBody) => api.call("saveWorkflow", { body }),
    onSuccess: () => qc.invalidateQueries({ queryKey: workflowKeys.all }),
  });
}
