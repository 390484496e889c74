import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";

export type Run = Schemas["RunRead"];
export type RunAction = "pause" | "resume" | "cancel";
export const RUN_ACTIONS: readonly RunAction[] = ["pause", "resume", "cancel"];

export function useRuns(agentId: string | null) {
  return useQuery({
    queryKey: ["runs", agentId ?? "all"],
    queryFn: ({ signal }) => api.call("listRuns", { query: { agent_id: agentId ?? undefined, limit: 25 }, signal }),
    // The API lists newest last; the panel shows newest first.
    select: (page) => [...page.runs].reverse(),
  });
}

export function useControlRun() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ runId, action }: { runId: string; action: RunAction }) =>
      api.call("controlRun", { path: { run_id: runId, action } }),
    onSettled: () => qc.invalidateQueries({ queryKey: ["runs"] }),
  });
}
