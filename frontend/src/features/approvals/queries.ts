import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";
import { isDecidable, type ApprovalStatus } from "./inbox";

export type Approval = Schemas["ApprovalRead"];
export type Decision = "approved" | "rejected";

const PAGE_SIZE = 25;

/** What waits for a decision now (Mission Control's panel); a request whose run ended is left out. */
export function usePendingApprovals() {
  return useQuery({
    queryKey: ["approvals", "pending"],
    queryFn: ({ signal }) => api.call("listApprovals", { query: { status: "pending", limit: 100 }, signal }),
    select: (page) => page.approvals.filter(isDecidable),
  });
}

/** The inbox: pending first, then the ended ones, paged with the API's cursor. */
export function useApprovalsInbox(status: "" | ApprovalStatus) {
  return useInfiniteQuery({
    queryKey: ["approvals", "inbox", status],
    queryFn: ({ signal, pageParam }) =>
      api.call("listApprovals", {
        query: { status: status || undefined, limit: PAGE_SIZE, before: pageParam },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => (page.has_more ? (page.next_before ?? undefined) : undefined),
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
