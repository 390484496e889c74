/**
 * Spend against each cap (pure). GET /router/admin/budgets answers the caps and, next to them,
 * `spend`: `{global_day?, tenants: {id: {day, month}}, agents: {tenant: {agent: {day, month}}}}`
 * (today and this month, UTC, calls in flight counted at their worst-case cost). `global_day` is
 * absent for tenant-scoped callers. Agents are named `<tenant>/<agent>` (an agent is both).
 */
import type { Schemas } from "../../api/client";
import { formatUsd } from "./usage";

export type BudgetsRead = Schemas["BudgetsRead"];
export type SpendLevel = "ok" | "near" | "over";
export type CapScope = "global" | "tenant" | "agent";
export type CapWindow = "day" | "month";

/** From this share of a cap on, the bar turns amber. */
export const NEAR_CAP = 0.8;

export interface CapBar {
  id: string;
  scope: CapScope;
  /** Tenant or agent id; "All tenants" for the global cap. */
  name: string;
  window: CapWindow;
  spent: number;
  cap: number;
  ratio: number;
  level: SpendLevel;
  percent: string;
  /** "$0.42 of $1.00 today (42%)". */
  summary: string;
}

/** Spent / cap; a cap of 0 is used up from the start (ratio 1), and anything spent over it is over. */
export function capRatio(spent: number, cap: number): number {
  const s = Math.max(0, Number.isFinite(spent) ? spent : 0);
  if (cap <= 0) return s > 0 ? Number.POSITIVE_INFINITY : 1;
  return s / cap;
}

export function spendLevel(ratio: number): SpendLevel {
  if (ratio >= 1) return "over";
  if (ratio >= NEAR_CAP) return "near";
  return "ok";
}

/** "42%"; never "100%" before the cap is reached (floors below it); "<1%" for a sliver. */
export function percentText(ratio: number): string {
  if (!Number.isFinite(ratio)) return "over cap";
  const p = ratio * 100;
  if (p <= 0) return "0%";
  if (p < 1) return "<1%";
  if (p < 100) return `${Math.min(99, Math.floor(p + 1e-9))}%`;
  return `${Math.round(p)}%`;
}

/** The bar's filled width in percent (0..100). */
export function barWidth(ratio: number): number {
  if (!Number.isFinite(ratio)) return 100;
  return Math.max(0, Math.min(100, ratio * 100));
}

export function levelLabel(level: SpendLevel, spent: number, cap: number): string {
  if (level === "over") return spent > cap ? "over cap" : "at cap";
  return level === "near" ? "near cap" : "under cap";
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function bar(scope: CapScope, name: string, window: CapWindow, spent: number, cap: number): CapBar {
  const ratio = capRatio(spent, cap);
  const level = spendLevel(ratio);
  const percent = percentText(ratio);
  const when = window === "day" ? "today" : "this month";
  return {
    id: `${scope}:${name}:${window}`,
    scope,
    name,
    window,
    spent,
    cap,
    ratio,
    level,
    percent,
    summary: `${formatUsd(spent)} of ${formatUsd(cap)} ${when} (${percent})`,
  };
}

/** One bar per cap that is set: global daily, then each tenant's and each agent's daily and monthly. */
export function spendBars(budgets: BudgetsRead): CapBar[] {
  const spend = record(budgets.spend);
  const tenantSpend = record(spend.tenants);
  const agentSpend = byAgent(spend.agents);
  const bars: CapBar[] = [];

  const globalCap = num(budgets.global_daily_cost_cap_usd);
  const globalDay = num(spend.global_day);
  if (globalCap !== null && globalDay !== null) bars.push(bar("global", "All tenants", "day", globalDay, globalCap));

  const groups: [CapScope, Record<string, unknown>, Record<string, unknown>][] = [
    ["tenant", record(budgets.tenants), tenantSpend],
    ["agent", byAgent(budgets.agents), agentSpend],
  ];
  for (const [scope, caps, spent] of groups) {
    for (const name of Object.keys(caps).sort()) {
      const c = record(caps[name]);
      const s = record(spent[name]);
      const daily = num(c.daily_cost_cap_usd);
      const monthly = num(c.monthly_cost_cap_usd);
      if (daily !== null) bars.push(bar(scope, name, "day", num(s.day) ?? 0, daily));
      if (monthly !== null) bars.push(bar(scope, name, "month", num(s.month) ?? 0, monthly));
    }
  }
  return bars;
}

/** `{tenant: {agent: value}}` as `{"<tenant>/<agent>": value}`. */
function byAgent(nested: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [tenant, agents] of Object.entries(record(nested))) {
    for (const [agent, value] of Object.entries(record(agents))) out[`${tenant}/${agent}`] = value;
  }
  return out;
}

export interface UncappedSpend {
  scope: CapScope;
  name: string;
  day: number;
  month: number | null;
}

/** Spend the server reported where no cap is set (e.g. the caller's own tenant, or the platform). */
export function uncappedSpend(budgets: BudgetsRead): UncappedSpend[] {
  const spend = record(budgets.spend);
  const out: UncappedSpend[] = [];
  const globalDay = num(spend.global_day);
  if (globalDay !== null && num(budgets.global_daily_cost_cap_usd) === null) {
    out.push({ scope: "global", name: "All tenants", day: globalDay, month: null });
  }
  const groups: [CapScope, Record<string, unknown>, Record<string, unknown>][] = [
    ["tenant", record(budgets.tenants), record(spend.tenants)],
    ["agent", byAgent(budgets.agents), byAgent(spend.agents)],
  ];
  for (const [scope, caps, spent] of groups) {
    for (const name of Object.keys(spent).sort()) {
      const c = record(caps[name]);
      if (num(c.daily_cost_cap_usd) !== null || num(c.monthly_cost_cap_usd) !== null) continue;
      const s = record(spent[name]);
      out.push({ scope, name, day: num(s.day) ?? 0, month: num(s.month) ?? 0 });
    }
  }
  return out;
}
