import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";

export type Approval = Schemas["ApprovalRead"];
export type Decision = "approved" | "rejected";

export function usePendingApprovals() {
  return useQuery({
    queryKey: ["approvals", "pending"],
    queryFn: ({ signal }) => api.call("listApprovals", { query: { status: "pending", limit: 100 }, signal }),
    select: (page) => page.approvals,
  });
}

export function useDecideApproval() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, decision, note }: { id: string; decision: Decision; note?: string }) =>
      api.call("decideApproval", { path: { approval_id: id }, body: { decision, note: note || null } }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ["approvals"] });
      void qc.invalidateQueries({ queryKey: ["runs"] });
    },
  });
}
