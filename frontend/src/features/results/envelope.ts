/**
 * What a finished skill left, read from whatever the caller holds: a TOOL_RUN_FINISHED event's
 * payload (the tool result with its `skillReport`), a run step's result (`summary`, `artifacts`),
 * a bare report envelope (`{ok, generatedAt, skillName, data}`) or the report's data itself.
 * A report is a skill's output, not a contract, so every field is read defensively.
 */

export type Renderer = "mail-triage" | "monthly-bookkeeping" | "git-watcher" | "generic";

export interface ReadResult {
  /** The report's `data`, or the whole result when it carries no report. */
  data: unknown;
  /** Whether a report envelope was found (else `data` is the raw result). */
  hasReport: boolean;
  ok: boolean | null;
  summary: string | null;
  error: string | null;
  /** Workspace paths the run wrote (`outputs/...`), for download. */
  artifacts: string[];
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isEnvelope(value: unknown): value is Json {
  return isObject(value) && typeof value.ok === "boolean" && "data" in value;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value : null;
}

function errorOf(value: unknown): string | null {
  if (isObject(value)) return text(value.message) ?? text(value.code);
  return text(value);
}

/** A result without the fields shown on their own (the summary on top, the files below). */
function withoutShown(result: Json): Json {
  const { summary: _summary, artifacts: _artifacts, ...rest } = result;
  return rest;
}

export function readResult(result: unknown): ReadResult {
  const outer = isObject(result) ? result : null;
  const report = outer && isEnvelope(outer.skillReport) ? outer.skillReport : isEnvelope(result) ? result : null;
  const artifacts = (Array.isArray(outer?.artifacts) ? outer.artifacts : []).filter(
    (a): a is string => typeof a === "string" && a.startsWith("outputs/"),
  );
  const ok = typeof report?.ok === "boolean" ? report.ok : typeof outer?.ok === "boolean" ? outer.ok : null;
  return {
    data: report ? report.data : outer ? withoutShown(outer) : result,
    hasReport: report !== null,
    ok,
    summary: text(outer?.summary),
    error: errorOf(report?.error) ?? errorOf(outer?.error),
    artifacts,
  };
}

/** The renderer for a skill's data: a shipped skill's own view when the data has its shape. */
export function rendererFor(skill: string, data: unknown): Renderer {
  if (!isObject(data)) return "generic";
  if (skill === "mail-triage" && Array.isArray(data.emails)) return "mail-triage";
  if (skill === "monthly-bookkeeping" && (isObject(data.byCategory) || typeof data.net === "number")) {
    return "monthly-bookkeeping";
  }
  if (skill === "git-watcher" && typeof data.isGitRepo === "boolean") return "git-watcher";
  return "generic";
}

/** The skill a tool result names (`skill` on a TOOL_RUN_FINISHED payload, or its report's `skillName`). */
export function skillOf(result: unknown): string {
  if (!isObject(result)) return "";
  if (typeof result.skill === "string") return result.skill;
  const report = isObject(result.skillReport) ? result.skillReport : result;
  return typeof report.skillName === "string" ? report.skillName : "";
}

/**
 * The report of a tool step, found in its run's history (`GET /orchestrator/runs/{id}` lists the
 * run's events with their payloads): a step's result keeps the summary and the files, not the
 * report. Of the skill's TOOL_RUN_FINISHED events, the one whose duration is the step's, else the
 * last one.
 */
export function findReport(history: unknown, skill: string, result: unknown): Json | null {
  if (!Array.isArray(history)) return null;
  const reports = history
    .filter(isObject)
    .filter((r) => r.name === "TOOL_RUN_FINISHED" && isObject(r.payload))
    .map((r) => r.payload as Json)
    .filter((p) => (!skill || p.skill === skill) && isEnvelope(p.skillReport));
  const took = isObject(result) ? result.duration_ms : undefined;
  const same = reports.find((p) => typeof took === "number" && isObject(p.metrics) && p.metrics.duration_ms === took);
  const found = same ?? reports[reports.length - 1];
  return found ? (found.skillReport as Json) : null;
}

/** A result read without its report, completed with the report found for it. */
export function withReport(read: ReadResult, report: Json): ReadResult {
  return {
    ...read,
    data: report.data,
    hasReport: true,
    ok: typeof report.ok === "boolean" ? report.ok : read.ok,
    error: read.error ?? errorOf(report.error),
  };
}
