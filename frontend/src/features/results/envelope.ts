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
