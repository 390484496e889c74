import { useMutation, useQueryClient } from "@tanstack/react-query";
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
