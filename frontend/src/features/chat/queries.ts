import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";

export type MessageReply = Schemas["MessageReply"];
export type ReplyAction = Schemas["Action"];

export function useSendMessage(agentId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (message: string) => api.call("sendMessage", { path: { agent_id: agentId }, body: { message } }),
    onSettled: () => {
      for (const key of [["agents"], ["runs"], ["approvals"], ["workflow"]]) {
        void qc.invalidateQueries({ queryKey: key });
      }
    },
  });
}

/** A run as stored now; the event stream marks ["runs"] stale on every run event, so this follows it live. */
export function useRunDetail(runId: string | null) {
  return useQuery({
    queryKey: ["runs", "detail", runId],
    queryFn: ({ signal }) => api.call("getRun", { path: { run_id: runId! }, signal }),
    enabled: runId !== null,
  });
}
