import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";
import type { RunAction } from "./controls";
import { filtersToQuery, type RunFilters } from "./filters";

export type Run = Schemas["RunRead"];
export type RunStep = Schemas["StepRead"];
export type RunLink = Schemas["RunLink"];
export type RunApproval = Schemas["ApprovalRead"];
export type RunEvent = Schemas["Event"];

/** Every runs query sits under ["runs"], which the event stream marks stale on RUN_* events. */
export const runKeys = {
  all: ["runs"] as const,
  recent: (agentId: string | null) => ["runs", "recent", agentId ?? "all"] as const,
  list: (filters: RunFilters) => ["runs", "list", filters] as const,
  detail: (runId: string) => ["runs", "detail", runId] as const,
  // Not under ["runs"]: the page keeps its events live itself, refetching them on every event would be waste.
  events: (runId: string) => ["run-events", runId] as const,
};

export const RECENT_RUNS = 6;
export const PAGE_SIZE = 25;
export const EVENTS_PAGE = 100;

/** The latest few runs (of one agent, or all), newest first: Mission Control's compact panel. */
export function useRecentRuns(agentId: string | null) {
  return useQuery({
    queryKey: runKeys.recent(agentId),
    queryFn: ({ signal }) =>
      api.call("listRuns", { query: { agent_id: agentId ?? undefined, limit: RECENT_RUNS }, signal }),
    select: (page) => ({ runs: [...page.runs].reverse(), hasMore: page.has_more }),
  });
}

/** The runs list, newest first, a page at a time: each next page is the one of older runs. */
export function useRunList(filters: RunFilters) {
  return useInfiniteQuery({
    queryKey: runKeys.list(filters),
    queryFn: ({ pageParam, signal }) =>
      api.call("listRuns", {
        query: { ...filtersToQuery(filters), before: pageParam ?? undefined, limit: PAGE_SIZE },
        signal,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => (last.has_more ? last.next_before : null),
    select: (data) => data.pages.flatMap((page) => [...page.runs].reverse()),
  });
}

export function useRun(runId: string) {
  return useQuery({
    queryKey: runKeys.detail(runId),
    queryFn: ({ signal }) => api.call("getRun", { path: { run_id: runId }, signal }),
  });
}

/** The run's stored events: the newest page first (it carries `live_after`), then older ones. */
export function useRunEventPages(runId: string) {
  return useInfiniteQuery({
    queryKey: runKeys.events(runId),
    queryFn: ({ pageParam, signal }) =>
      api.call("getRunEvents", {
        path: { run_id: runId },
        query: { before: pageParam ?? undefined, limit: EVENTS_PAGE },
        signal,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => (last.has_more ? last.next_before : null),
    staleTime: Infinity, // the stream keeps it current
    refetchOnWindowFocus: false,
  });
}

export function useControlRun() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ runId, action }: { runId: string; action: RunAction }) =>
      api.call("controlRun", { path: { run_id: runId, action } }),
    // Show the new status at once; the refetch below brings the rest (plan, history).
    onSuccess: (run) =>
      qc.setQueryData(runKeys.detail(run.run_id), (old: Run | undefined) =>
        old ? { ...old, status: run.status, allowed_actions: run.allowed_actions, updated_at: run.updated_at } : old,
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: runKeys.all }),
  });
}
