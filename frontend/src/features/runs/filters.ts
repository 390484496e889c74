/** The runs list's filters, kept in the URL (`/runs?agent=&status=&kind=&range=&from=&to=`). */

export const RUN_STATUSES = [
  "pending",
  "running",
  "paused",
  "waiting_approval",
  "completed",
  "rejected",
  "failed",
  "cancelled",
] as const;
export const RUN_KINDS = ["message", "channel", "heartbeat", "task", "delegate", "delegated", "legacy"] as const;
export const RANGES = { "1h": 3600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400 } as const;

export type RunStatus = (typeof RUN_STATUSES)[number];
export type RunKind = (typeof RUN_KINDS)[number];
export type RangeKey = keyof typeof RANGES;

export interface RunFilters {
  agent: string;
  status: RunStatus | "";
  kind: RunKind | "";
  /** A preset ("24h"), "custom" (from/to dates), or "" for any time. */
  range: RangeKey | "custom" | "";
  /** Local calendar days, YYYY-MM-DD, used when range is "custom". */
  from: string;
  to: string;
}

export const NO_FILTERS: RunFilters = { agent: "", status: "", kind: "", range: "", from: "", to: "" };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | "" {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : "";
}

/** The filters a URL names; anything unknown is dropped rather than sent to the API. */
export function filtersFromParams(params: URLSearchParams): RunFilters {
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const range = oneOf(params.get("range"), [...(Object.keys(RANGES) as RangeKey[]), "custom" as const]);
  return {
    agent: (params.get("agent") ?? "").trim(),
    status: oneOf(params.get("status"), RUN_STATUSES),
    kind: oneOf(params.get("kind"), RUN_KINDS),
    range,
    from: range === "custom" && DAY.test(from) ? from : "",
    to: range === "custom" && DAY.test(to) ? to : "",
  };
}

/** The URL's search params for the filters: only those set, so a bare `/runs` means "all runs". */
export function filtersToParams(filters: RunFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.agent) params.set("agent", filters.agent);
  if (filters.status) params.set("status", filters.status);
  if (filters.kind) params.set("kind", filters.kind);
  if (filters.range) params.set("range", filters.range);
  if (filters.range === "custom") {
    if (filters.from) params.set("from", filters.from);
    if (filters.to) params.set("to", filters.to);
  }
  return params;
}

/** Midnight of a local calendar day, as ISO 8601 with a zone (what the API asks for). */
function localMidnight(day: string, plusDays = 0): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

export interface RunQuery {
  agent_id?: string;
  status?: RunStatus;
  kind?: RunKind;
  since?: string;
  until?: string;
}

/** The API's query (`GET /orchestrator/runs`) for the filters; presets count back from `now`. */
export function filtersToQuery(filters: RunFilters, now: number = Date.now()): RunQuery {
  const query: RunQuery = {};
  if (filters.agent) query.agent_id = filters.agent;
  if (filters.status) query.status = filters.status;
  if (filters.kind) query.kind = filters.kind;
  if (filters.range && filters.range !== "custom") {
    query.since = new Date(now - RANGES[filters.range] * 1000).toISOString();
  } else if (filters.range === "custom") {
    if (filters.from) query.since = localMidnight(filters.from);
    // "to" is a whole day: runs created before the next midnight.
    if (filters.to) query.until = localMidnight(filters.to, 1);
  }
  return query;
}

/** Words for the filters in force, for the empty state ("No runs match: agent ana, failed"). */
export function describeFilters(filters: RunFilters): string {
  const parts: string[] = [];
  if (filters.agent) parts.push(`agent ${filters.agent}`);
  if (filters.status) parts.push(filters.status.replace(/_/g, " "));
  if (filters.kind) parts.push(`kind ${filters.kind}`);
  if (filters.range && filters.range !== "custom") parts.push(`last ${filters.range}`);
  if (filters.range === "custom" && (filters.from || filters.to))
    parts.push(`${filters.from || "…"} to ${filters.to || "…"}`);
  return parts.join(", ");
}
