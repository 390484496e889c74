import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";
import type { BudgetsDoc, RulesDoc } from "./forms";
import type { UsageQuery } from "./usage";

export type RouterMetrics = Schemas["RouterMetrics"];
export type RulesRead = Schemas["RulesRead"];
export type BudgetsRead = Schemas["BudgetsRead"];

/** Spend moves with every model call; the page refreshes it on its own. */
const LIVE = 30_000;

export const routerKeys = {
  all: ["router"] as const,
  metrics: ["router", "metrics"] as const,
  usage: (query: UsageQuery) => ["router", "usage", query] as const,
  rules: ["router", "rules"] as const,
  budgets: ["router", "budgets"] as const,
  tenants: ["fleet", "tenants"] as const,
};

export function useRouterMetrics() {
  return useQuery({
    queryKey: routerKeys.metrics,
    queryFn: ({ signal }) => api.call("getRouterMetrics", { signal }),
    refetchInterval: LIVE,
  });
}

export function useRouterUsage(query: UsageQuery, enabled = true) {
  return useQuery({
    queryKey: routerKeys.usage(query),
    queryFn: ({ signal }) => api.call("getRouterUsage", { query, signal }),
    select: (page) => page.usage,
    placeholderData: keepPreviousData,
    refetchInterval: LIVE,
    enabled,
  });
}

export function useRouterRules() {
  return useQuery({
    queryKey: routerKeys.rules,
    queryFn: ({ signal }) => api.call("getRouterRules", { signal }),
  });
}

export function useRouterBudgets() {
  return useQuery({
    queryKey: routerKeys.budgets,
    queryFn: ({ signal }) => api.call("getRouterBudgets", { signal }),
    refetchInterval: LIVE,
  });
}

export function useSaveRules() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: RulesDoc) => api.call("putRouterRules", { body: body as unknown as Record<string, unknown> }),
    onSuccess: (saved) => qc.setQueryData(routerKeys.rules, saved),
  });
}

export function useSaveBudgets() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: BudgetsDoc) =>
      api.call("putRouterBudgets", { body: body as unknown as Record<string, unknown> }),
    onSuccess: (saved) => qc.setQueryData(routerKeys.budgets, saved),
  });
}

/** The registered tenants: the budgets editor's tenant picker (a platform admin's only). */
export function useTenants(enabled: boolean) {
  return useQuery({
    queryKey: routerKeys.tenants,
    queryFn: ({ signal }) => api.call("listTenants", { signal }),
    select: (page) => page.tenants.map((t) => t.tenant_id),
    enabled,
    staleTime: 60_000,
  });
}
