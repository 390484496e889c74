/**
 * Pure helpers for the router's usage ledger: filters, per-day series for the charts, formatting.
 *
 * The backend has no "usage per day per model/tenant/agent" endpoint (GET /router/metrics has
 * per-day totals and per-key totals, never both at once), so the charts are computed here from
 * the rows of GET /router/admin/usage (at most 1000 of them, the newest in the chosen range).
 * Days are UTC days, like the backend's daily rollup.
 */
import type { Schemas } from "../../api/client";

export type UsageRow = Schemas["UsageRead"];
export type GroupBy = "model" | "tenant" | "agent";
export type UsageStatus = "" | "ok" | "error" | "reserved" | "released";

/** The most rows GET /router/admin/usage answers with (its `limit` is at most 1000). */
export const USAGE_LIMIT = 1000;
export const NO_AGENT = "(no agent)";
export const OTHER = "other";
export const USAGE_STATUSES = ["ok", "error", "reserved", "released"] as const;

// ---- filters ------------------------------------------------------------------------------

export interface UsageFilters {
  tenant: string;
  agent: string;
  model: string;
  status: UsageStatus;
  /** Inclusive UTC days, `YYYY-MM-DD`, or "" for open-ended. */
  from: string;
  to: string;
}

export const emptyFilters: UsageFilters = { tenant: "", agent: "", model: "", status: "", from: "", to: "" };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Today, as a UTC day. */
export function utcToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** The page opens on the last 30 days (UTC), everything else unfiltered. */
export function defaultFilters(now: Date = new Date()): UsageFilters {
  return { ...emptyFilters, from: addDays(utcToday(now), -29) };
}

/** What the usage filters' dates show, in words: "Last 30 days", "Since 2026-11-01", "All time"… (UTC). */
export function rangeLabel(from: string, to: string, now: Date = new Date()): string {
  const today = utcToday(now);
  if (from === "" && to === "") return "All time (UTC)";
  if (to === "" || to === today) {
    if (from === "") return `Until today (UTC)`;
    const days = Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
    if (days === 1) return "Today (UTC)";
    return days > 1 ? `Last ${days} days (UTC)` : `Since ${from} (UTC)`;
  }
  if (from === "") return `Until ${to} (UTC)`;
  return from === to ? `${from} (UTC)` : `${from} to ${to} (UTC)`;
}

export function isDay(text: string): boolean {
  if (!DAY.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

/** `YYYY-MM-DD` of a moment, in UTC; null when the text is not a time. */
export function utcDay(iso: string): string | null {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return new Date(t).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Every day from `first` to `last`, both included (empty when `last` is before `first`). */
export function dayRange(first: string, last: string): string[] {
  const days: string[] = [];
  for (let day = first; day <= last; day = addDays(day, 1)) days.push(day);
  return days;
}

/** Words for a date range the server cannot be asked for, else null. */
export function dateRangeError(from: string, to: string): string | null {
  if (from && !isDay(from)) return "The start date is not a valid date";
  if (to && !isDay(to)) return "The end date is not a valid date";
  if (from && to && from > to) return "The start date is after the end date";
  return null;
}

export type UsageQuery = {
  tenant_id?: string;
  agent_id?: string;
  from?: string;
  to?: string;
  limit: number;
};

/**
 * What the server filters (tenant, agent, date range); model and status are filtered here because
 * the usage endpoint has no parameter for them. `to` is an inclusive day: the server's `to` is
 * exclusive, so it is asked for midnight (UTC) of the next day.
 */
export function usageQuery(filters: UsageFilters, limit = USAGE_LIMIT): UsageQuery {
  const query: UsageQuery = { limit };
  if (filters.tenant) query.tenant_id = filters.tenant;
  if (filters.agent) query.agent_id = filters.agent;
  if (filters.from && isDay(filters.from)) query.from = `${filters.from}T00:00:00Z`;
  if (filters.to && isDay(filters.to)) query.to = `${addDays(filters.to, 1)}T00:00:00Z`;
  return query;
}

/** Rows matching every set filter, in the order given. */
export function filterUsage(rows: readonly UsageRow[], filters: Partial<UsageFilters>): UsageRow[] {
  const fromDay = filters.from && isDay(filters.from) ? filters.from : "";
  const toDay = filters.to && isDay(filters.to) ? filters.to : "";
  return rows.filter((row) => {
    if (filters.tenant && row.tenant_id !== filters.tenant) return false;
    if (filters.agent && row.agent_id !== filters.agent) return false;
    if (filters.model && row.model !== filters.model) return false;
    if (filters.status && row.status !== filters.status) return false;
    if (fromDay || toDay) {
      const day = utcDay(row.created_at);
      if (day === null) return false;
      if (fromDay && day < fromDay) return false;
      if (toDay && day > toDay) return false;
    }
    return true;
  });
}

/** Options for a filter menu: every list merged, sorted, and the current choice always present. */
export function options(selected: string, ...lists: readonly (readonly string[])[]): string[] {
  const all = new Set<string>();
  for (const list of lists) for (const v of list) if (v) all.add(v);
  if (selected) all.add(selected);
  return [...all].sort();
}

/** The distinct values of a column, sorted, for filter menus. */
export function distinct(rows: readonly UsageRow[], pick: (row: UsageRow) => string | null): string[] {
  const values = new Set<string>();
  for (const row of rows) {
    const value = pick(row);
    if (value) values.add(value);
  }
  return [...values].sort();
}

// ---- per-day series for the charts ---------------------------------------------------------

export function groupKey(row: UsageRow, groupBy: GroupBy): string {
  if (groupBy === "model") return row.model;
  if (groupBy === "tenant") return row.tenant_id;
  return row.agent_id || NO_AGENT;
}

/** Money to the backend's precision (1e-9 USD), so sums of floats do not show 0.30000000000000004. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

/** One bar series: values live under a safe `dataKey` (`k0`…), as keys like "gpt-4.1" contain dots. */
export interface Series {
  dataKey: string;
  name: string;
}

export type DayPoint = { day: string; total: number } & Record<string, number | string>;

export interface UsageByDay {
  series: Series[];
  cost: DayPoint[];
  tokens: DayPoint[];
}

export interface ByDayOptions {
  /** Inclusive UTC days the chart should span even where there are no rows. */
  from?: string;
  to?: string;
  /** Keys beyond this many (by cost, then tokens) are summed as "other". */
  maxSeries?: number;
  /** A range longer than this is shrunk to the days that have rows. */
  maxDays?: number;
}

/**
 * Cost and tokens per UTC day, one series per model/tenant/agent (the biggest `maxSeries - 1`
 * and "other" when there are more). Days without rows are present with zeros; no rows at all
 * gives no days, for the empty state.
 */
export function usageByDay(rows: readonly UsageRow[], groupBy: GroupBy, options: ByDayOptions = {}): UsageByDay {
  const maxSeries = Math.max(1, options.maxSeries ?? 8);
  const maxDays = options.maxDays ?? 366;

  const cells = new Map<string, Map<string, { cost: number; tokens: number }>>();
  const totals = new Map<string, { cost: number; tokens: number }>();
  let first: string | null = null;
  let last: string | null = null;
  for (const row of rows) {
    const day = utcDay(row.created_at);
    if (day === null) continue;
    const key = groupKey(row, groupBy);
    const cost = Number.isFinite(row.cost) ? row.cost : 0;
    const tokens = Number.isFinite(row.tokens) ? row.tokens : 0;
    let perKey = cells.get(day);
    if (!perKey) cells.set(day, (perKey = new Map()));
    const cell = perKey.get(key) ?? { cost: 0, tokens: 0 };
    perKey.set(key, { cost: cell.cost + cost, tokens: cell.tokens + tokens });
    const total = totals.get(key) ?? { cost: 0, tokens: 0 };
    totals.set(key, { cost: total.cost + cost, tokens: total.tokens + tokens });
    if (first === null || day < first) first = day;
    if (last === null || day > last) last = day;
  }
  if (first === null || last === null) return { series: [], cost: [], tokens: [] };

  let start = options.from && isDay(options.from) && options.from < first ? options.from : first;
  let end = options.to && isDay(options.to) && options.to > last ? options.to : last;
  if (dayRange(start, end).length > maxDays) {
    start = first;
    end = last;
  }

  const ranked = [...totals.entries()]
    .sort(([ka, a], [kb, b]) => b.cost - a.cost || b.tokens - a.tokens || ka.localeCompare(kb))
    .map(([key]) => key);
  const shown = ranked.length > maxSeries ? ranked.slice(0, maxSeries - 1) : ranked;
  const shownSet = new Set(shown);
  const names = ranked.length > shown.length ? [...shown, OTHER] : shown;
  const series = names.map((name, i) => ({ dataKey: `k${i}`, name }));
  const dataKeyOf = (key: string) => (shownSet.has(key) ? `k${shown.indexOf(key)}` : `k${shown.length}`);

  const cost: DayPoint[] = [];
  const tokens: DayPoint[] = [];
  for (const day of dayRange(start, end)) {
    const costPoint: DayPoint = { day, total: 0 };
    const tokenPoint: DayPoint = { day, total: 0 };
    for (const s of series) {
      costPoint[s.dataKey] = 0;
      tokenPoint[s.dataKey] = 0;
    }
    for (const [key, cell] of cells.get(day) ?? []) {
      const dataKey = dataKeyOf(key);
      costPoint[dataKey] = (costPoint[dataKey] as number) + cell.cost;
      tokenPoint[dataKey] = (tokenPoint[dataKey] as number) + cell.tokens;
      costPoint.total += cell.cost;
      tokenPoint.total += cell.tokens;
    }
    for (const s of series) costPoint[s.dataKey] = roundUsd(costPoint[s.dataKey] as number);
    costPoint.total = roundUsd(costPoint.total);
    cost.push(costPoint);
    tokens.push(tokenPoint);
  }
  return { series, cost, tokens };
}

// ---- formatting ------------------------------------------------------------------------------

/** "$1,234.50", "$0.30", small amounts to 6 places ("$0.000123"), "<$0.000001" below that. */
export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const v = roundUsd(value);
  if (v === 0) return "$0.00";
  const sign = v < 0 ? "-" : "";
  const abs = Math.abs(v);
  if (abs >= 0.01) {
    return `${sign}$${abs.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  if (abs < 0.0000005) return `${sign}<$0.000001`;
  return `${sign}$${abs.toFixed(6).replace(/0+$/, "")}`;
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** Cost axis ticks: "$0", "$0.0012", "$1.5", "$12K". */
export function formatUsdAxis(value: number): string {
  if (!Number.isFinite(value)) return "";
  if (value === 0) return "$0";
  const abs = Math.abs(value);
  if (abs >= 1000) return `$${compact.format(value)}`;
  if (abs >= 1) return `$${Number(value.toFixed(2))}`;
  return `$${Number(value.toPrecision(2))}`;
}

/** Axis labels: "1.5K", "2M". */
export function formatCompact(value: number): string {
  return Number.isFinite(value) ? compact.format(value) : "—";
}

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? "—"
    : Math.round(value).toLocaleString("en-US");
}

/** An error rate (0..1) as "1.2%". */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return "—";
  return `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-01-02" → "Jan 2" (axis ticks). */
export function formatDay(day: string): string {
  if (!isDay(day)) return day;
  return `${MONTHS[Number(day.slice(5, 7)) - 1]} ${Number(day.slice(8, 10))}`;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
