import { useInfiniteQuery, useMutation, useMutationState, useQuery, useQueryClient } from "@tanstack/react-query";
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

/** A decision on one request; keyed by it, so its outcome outlives the form that sent it. */
export function useDecideApproval(approvalId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationKey: ["decide-approval", approvalId],
    mutationFn: ({ decision, note }: { decision: Decision; note?: string }) =>
      api.call("decideApproval", { path: { approval_id: approvalId }, body: { decision, note: note || null } }),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ["approvals"] });
      void qc.invalidateQueries({ queryKey: ["runs"] });
    },
  });
}

/**
 * Why the latest decision on this request was refused, if it was: a request decided or cancelled
 * meanwhile leaves its form when the list refreshes, and the reason must stay in view.
 */
export function useDecisionError(approvalId: string): unknown {
  const latest = useMutationState({
    filters: { mutationKey: ["decide-approval", approvalId] },
    select: (m) => (m.state.status === "error" ? (m.state.error ?? null) : null),
  });
  return latest.length ? latest[latest.length - 1] : null;
}

/** Refused decisions of the last minutes (newest first), with a way to dismiss each. */
export function useRefusedDecisions() {
  const qc = useQueryClient();
  const refused = useMutationState({
    filters: { mutationKey: ["decide-approval"], status: "error" },
    select: (m) => ({ mutation: m, approvalId: String(m.options.mutationKey?.[1] ?? ""), error: m.state.error }),
  });
  return [...refused].reverse().map((r) => ({
    approvalId: r.approvalId,
    error: r.error,
    dismiss: () => qc.getMutationCache().remove(r.mutation),
  }));
}
