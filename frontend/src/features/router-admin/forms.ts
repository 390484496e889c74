/**
 * The rules and budgets editors' logic (pure): server data → form rows → validated request body,
 * and the server's 422 messages → the form field they name.
 *
 * The checks mirror the backend (talkative/llm_router/rules.py and budgets.py) so most mistakes
 * are caught before saving; the server stays the judge. Its 422 answers carry the location in the
 * message only (`{"error": "routes[1].match: bad regex: …; default_model: …", "code": "INVALID_RULES"}`,
 * `{"error": "tenants.acme.daily_cost_cap_usd: Input should be …", "code": "INVALID_BUDGETS"}`),
 * so the message is parsed back into locations.
 */
import type { Schemas } from "../../api/client";

export type RulesRead = Schemas["RulesRead"];
export type BudgetsRead = Schemas["BudgetsRead"];

/** Form field path ("routes.0.match") → what is wrong with it. */
export type FieldErrors = Record<string, string>;

export interface ServerErrors {
  /** Errors that name a field of the form, shown next to it. */
  fields: FieldErrors;
  /** Everything else, shown above the form. */
  general: string[];
}

// ---- limits, as in the backend ------------------------------------------------------------

export const LOCAL = "local";
export const DEFAULT_MAX_TOKENS = 1024;
export const MAX_ROUTE_TOKENS = 200_000;
export const MAX_ROUTES = 200;
export const MAX_PRICES = 500;
export const MAX_REGEX_CHARS = 500;
export const MAX_MODEL_CHARS = 100;
export const MAX_PRICE_PER_MTOK = 1_000_000;
export const MAX_ID_CHARS = 64;

const MODEL_NAME = /^([a-z][a-z0-9_-]{0,31})\/([A-Za-z0-9._:-]+(?:\/[A-Za-z0-9._:-]+)*)$/;

let uidSeq = 0;
/** A stable React key for a form row. */
export function newUid(): string {
  uidSeq += 1;
  return `row-${uidSeq}`;
}

// ---- values -----------------------------------------------------------------------------------

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export type Parsed = { ok: true; value: number | null } | { ok: false; error: string };

/** A number typed in a field: "" is null (no value), "1.5" is 1.5, "abc"/"1,5"/"0x1" are errors. */
export function parseNumber(text: string): Parsed {
  const t = text.trim();
  if (t === "") return { ok: true, value: null };
  if (!DECIMAL.test(t)) return { ok: false, error: "Must be a number" };
  const value = Number(t);
  if (!Number.isFinite(value)) return { ok: false, error: "Must be a finite number" };
  return { ok: true, value };
}

/** Words for a cap or price: optional (unless `required`), a number, ≥ 0, ≤ `max`. */
export function checkAmount(
  text: string,
  { required = false, max }: { required?: boolean; max?: number } = {},
): string | null {
  const parsed = parseNumber(text);
  if (!parsed.ok) return parsed.error;
  if (parsed.value === null) return required ? "Required" : null;
  if (parsed.value < 0) return "Must be 0 or more";
  if (max !== undefined && parsed.value > max) return `Must be at most ${max.toLocaleString("en-US")}`;
  return null;
}

function toNumber(text: string): number | null {
  const parsed = parseNumber(text);
  return parsed.ok ? parsed.value : null;
}

/** `local` or `<provider>/<model>` with a provider this server knows (when the list is known). */
export function checkModelName(name: string, knownProviders: readonly string[] = []): string | null {
  const n = name.trim();
  if (!n) return "Required";
  if (n === LOCAL) return null;
  if (n.startsWith(`${LOCAL}/`)) return `'${LOCAL}' takes no model part; write '${LOCAL}'`;
  const match = MODEL_NAME.exec(n);
  if (!match) return `Must be '${LOCAL}' or '<provider>/<model>' (model part: letters, digits and ._:-/ only)`;
  if (match[2].length > MAX_MODEL_CHARS) return `Model part is longer than ${MAX_MODEL_CHARS} characters`;
  if (knownProviders.length > 0 && !knownProviders.includes(match[1])) {
    return `Unknown provider '${match[1]}' (known: ${[...knownProviders].sort().join(", ")})`;
  }
  return null;
}

/**
 * Whether a route's pattern compiles. The server uses Python's `re`; the few Python-only forms
 * are translated to JavaScript's before trying, and patterns JavaScript cannot express are left
 * to the server.
 */
export function checkRegex(pattern: string): string | null {
  if (!pattern) return "Required";
  if (pattern.length > MAX_REGEX_CHARS) return `Must be at most ${MAX_REGEX_CHARS} characters`;
  if (/\(\?>|[*+?}]\+/.test(pattern)) return null; // atomic groups / possessive quantifiers: Python only
  const js = pattern
    .replace(/^\(\?[aiLmsux]+\)/, "")
    .replace(/\(\?P</g, "(?<")
    .replace(/\(\?P=(\w+)\)/g, "\\k<$1>");
  try {
    new RegExp(js, "i");
    return null;
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^Invalid regular expression: /, "") : "";
    return `Bad regex${reason ? `: ${reason}` : ""}`;
  }
}

function checkId(id: string, what: string): string | null {
  const t = id.trim();
  if (!t) return `${what} is required`;
  if (t.length > MAX_ID_CHARS) return `At most ${MAX_ID_CHARS} characters`;
  return null;
}

// ---- rules -------------------------------------------------------------------------------

export interface RouteRow {
  uid: string;
  match: string;
  model: string;
  max_tokens: string;
}

export interface PriceRow {
  uid: string;
  model: string;
  input_per_mtok: string;
  output_per_mtok: string;
}

export interface RulesForm {
  default_model: string;
  routes: RouteRow[];
  prices: PriceRow[];
}

export interface RulesDoc {
  default_model: string;
  routes: { match: string; model: string; max_tokens: number }[];
  prices: Record<string, { input_per_mtok: number; output_per_mtok: number }>;
}

function text(value: unknown, fallback = ""): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return fallback;
}

export function rulesForm(rules: RulesRead): RulesForm {
  return {
    default_model: rules.default_model,
    routes: rules.routes.map((r) => ({
      uid: newUid(),
      match: text(r.match),
      model: text(r.model),
      max_tokens: text(r.max_tokens, String(DEFAULT_MAX_TOKENS)),
    })),
    prices: Object.entries(rules.prices).map(([model, p]) => ({
      uid: newUid(),
      model,
      input_per_mtok: text(p.input_per_mtok),
      output_per_mtok: text(p.output_per_mtok),
    })),
  };
}

export function emptyRoute(): RouteRow {
  return { uid: newUid(), match: "", model: "", max_tokens: String(DEFAULT_MAX_TOKENS) };
}

export function emptyPrice(): PriceRow {
  return { uid: newUid(), model: "", input_per_mtok: "", output_per_mtok: "" };
}

function checkMaxTokens(value: string): string | null {
  const t = value.trim();
  if (!t) return "Required";
  if (!/^[+-]?\d+$/.test(t)) return "Must be a whole number";
  const n = Number(t);
  if (n < 1) return "Must be at least 1";
  if (n > MAX_ROUTE_TOKENS) return `Must be at most ${MAX_ROUTE_TOKENS.toLocaleString("en-US")}`;
  return null;
}

/** Every problem in the rules form, by field path; empty when it can be saved. */
export function validateRules(form: RulesForm, knownProviders: readonly string[] = []): FieldErrors {
  const errors: FieldErrors = {};
  const set = (path: string, error: string | null) => {
    if (error) errors[path] = error;
  };
  set("default_model", checkModelName(form.default_model, knownProviders));

  if (form.routes.length > MAX_ROUTES) set("routes", `At most ${MAX_ROUTES} routes`);
  form.routes.forEach((route, i) => {
    set(`routes.${i}.match`, checkRegex(route.match));
    set(`routes.${i}.model`, checkModelName(route.model, knownProviders));
    set(`routes.${i}.max_tokens`, checkMaxTokens(route.max_tokens));
  });

  if (form.prices.length > MAX_PRICES) set("prices", `At most ${MAX_PRICES} prices`);
  const seen = new Set<string>();
  form.prices.forEach((price, i) => {
    const model = price.model.trim();
    let modelError = checkModelName(model, knownProviders);
    if (!modelError && model === LOCAL) modelError = "Local calls cost nothing; remove this price";
    if (!modelError && seen.has(model)) modelError = "This model already has a price";
    seen.add(model);
    set(`prices.${i}.model`, modelError);
    set(`prices.${i}.input_per_mtok`, checkAmount(price.input_per_mtok, { required: true, max: MAX_PRICE_PER_MTOK }));
    set(`prices.${i}.output_per_mtok`, checkAmount(price.output_per_mtok, { required: true, max: MAX_PRICE_PER_MTOK }));
  });
  return errors;
}

/** The PUT /router/admin/rules body of a valid form (routes in the form's order). */
export function rulesDoc(form: RulesForm): RulesDoc {
  const prices: RulesDoc["prices"] = {};
  for (const p of form.prices) {
    prices[p.model.trim()] = {
      input_per_mtok: toNumber(p.input_per_mtok) ?? 0,
      output_per_mtok: toNumber(p.output_per_mtok) ?? 0,
    };
  }
  return {
    default_model: form.default_model.trim(),
    routes: form.routes.map((r) => ({
      match: r.match,
      model: r.model.trim(),
      max_tokens: Number(r.max_tokens.trim()),
    })),
    prices,
  };
}

// ---- budgets -----------------------------------------------------------------------------

export interface TenantCapRow {
  uid: string;
  id: string;
  daily_cost_cap_usd: string;
  monthly_cost_cap_usd: string;
}

export interface AgentCapRow extends TenantCapRow {
  tenant_id: string;
}

export interface BudgetsForm {
  global_daily_cost_cap_usd: string;
  tenants: TenantCapRow[];
  agents: AgentCapRow[];
}

type Caps = { daily_cost_cap_usd: number | null; monthly_cost_cap_usd: number | null };

/**
 * Agent caps are keyed by tenant, then agent id. A row whose tenant is left empty is sent in the
 * older flat shape (`{agent: {tenant_id: null, ...}}`): the server files it under the tenant
 * admin's own tenant (a platform admin must name one).
 */
export interface BudgetsDoc {
  global_daily_cost_cap_usd: number | null;
  tenants: Record<string, Caps>;
  agents: Record<string, Record<string, Caps> | (Caps & { tenant_id: null })>;
}

/** `{tenant: {agent: caps}}` as `[tenant, agent, caps]`, tenants then agents in the server's order. */
export function agentCapEntries(agents: unknown): [string, string, Record<string, unknown>][] {
  const out: [string, string, Record<string, unknown>][] = [];
  for (const [tenant, byAgent] of Object.entries(asRecord(agents))) {
    for (const [agent, caps] of Object.entries(asRecord(byAgent))) out.push([tenant, agent, asRecord(caps)]);
  }
  return out;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function capText(value: unknown): string {
  return typeof value === "number" && Number.isFinite(value) ? String(value) : "";
}

export function budgetsForm(budgets: BudgetsRead): BudgetsForm {
  return {
    global_daily_cost_cap_usd: capText(budgets.global_daily_cost_cap_usd),
    tenants: Object.entries(budgets.tenants).map(([id, caps]) => ({
      uid: newUid(),
      id,
      daily_cost_cap_usd: capText(caps.daily_cost_cap_usd),
      monthly_cost_cap_usd: capText(caps.monthly_cost_cap_usd),
    })),
    agents: agentCapEntries(budgets.agents).map(([tenant, id, caps]) => ({
      uid: newUid(),
      id,
      tenant_id: tenant,
      daily_cost_cap_usd: capText(caps.daily_cost_cap_usd),
      monthly_cost_cap_usd: capText(caps.monthly_cost_cap_usd),
    })),
  };
}

export function emptyTenantCaps(): TenantCapRow {
  return { uid: newUid(), id: "", daily_cost_cap_usd: "", monthly_cost_cap_usd: "" };
}

export function emptyAgentCaps(): AgentCapRow {
  return { ...emptyTenantCaps(), tenant_id: "" };
}

export function validateBudgets(form: BudgetsForm): FieldErrors {
  const errors: FieldErrors = {};
  const set = (path: string, error: string | null) => {
    if (error) errors[path] = error;
  };
  set("global_daily_cost_cap_usd", checkAmount(form.global_daily_cost_cap_usd));
  const groups: [string, TenantCapRow[], string][] = [
    ["tenants", form.tenants, "Tenant id"],
    ["agents", form.agents, "Agent id"],
  ];
  for (const [group, rows, what] of groups) {
    const seen = new Set<string>();
    rows.forEach((row, i) => {
      const id = row.id.trim();
      const key = "tenant_id" in row && typeof row.tenant_id === "string" ? `${row.tenant_id.trim()}\n${id}` : id;
      let idError = checkId(row.id, what);
      if (!idError && seen.has(key)) idError = `This ${group === "tenants" ? "tenant" : "agent"} is listed twice`;
      seen.add(key);
      set(`${group}.${i}.id`, idError);
      set(`${group}.${i}.daily_cost_cap_usd`, checkAmount(row.daily_cost_cap_usd));
      set(`${group}.${i}.monthly_cost_cap_usd`, checkAmount(row.monthly_cost_cap_usd));
      if ("tenant_id" in row && typeof row.tenant_id === "string" && row.tenant_id.trim().length > MAX_ID_CHARS) {
        set(`${group}.${i}.tenant_id`, `At most ${MAX_ID_CHARS} characters`);
      }
    });
  }
  return errors;
}

/** The PUT /router/admin/budgets body of a valid form; empty caps are null (no cap). */
export function budgetsDoc(form: BudgetsForm): BudgetsDoc {
  const doc: BudgetsDoc = {
    global_daily_cost_cap_usd: toNumber(form.global_daily_cost_cap_usd),
    tenants: {},
    agents: {},
  };
  for (const t of form.tenants) {
    doc.tenants[t.id.trim()] = {
      daily_cost_cap_usd: toNumber(t.daily_cost_cap_usd),
      monthly_cost_cap_usd: toNumber(t.monthly_cost_cap_usd),
    };
  }
  for (const a of form.agents) {
    const caps = {
      daily_cost_cap_usd: toNumber(a.daily_cost_cap_usd),
      monthly_cost_cap_usd: toNumber(a.monthly_cost_cap_usd),
    };
    const tenant = a.tenant_id.trim();
    if (!tenant) {
      doc.agents[a.id.trim()] = { tenant_id: null, ...caps };
      continue;
    }
    const mine = (doc.agents[tenant] ??= {}) as Record<string, Caps>;
    mine[a.id.trim()] = caps;
  }
  return doc;
}

// ---- the server's 422 messages → fields -------------------------------------------------------

export interface LocatedMessage {
  loc: string | null;
  text: string;
}

const MORE = /\s*\(and (\d+) more\)\s*$/;
// A rules location: `default_model`, `routes[1].match`, `prices['openai/x'].input_per_mtok`.
const RULES_LOC =
  /(?:^|; )((?:default_model|routes|prices|rules|[A-Za-z_]\w*)(?:\[\d+\]|\['(?:[^'\\]|\\.)*'\]|\["(?:[^"\\]|\\.)*"\]|\.[A-Za-z_]\w*)*): /g;

/** `"a: x; b[0].c: y (and 2 more)"` → `[{loc: "a", text: "x"}, {loc: "b[0].c", text: "y"}]` and 2. */
export function splitRulesMessage(message: string): { parts: LocatedMessage[]; more: number } {
  const moreMatch = MORE.exec(message);
  const more = moreMatch ? Number(moreMatch[1]) : 0;
  const body = moreMatch ? message.slice(0, moreMatch.index) : message;
  const starts = [...body.matchAll(RULES_LOC)];
  if (starts.length === 0 || (starts[0].index ?? 0) !== 0) return { parts: [{ loc: null, text: message }], more: 0 };
  const parts = starts.map((m, i) => {
    const textStart = (m.index ?? 0) + m[0].length;
    const textEnd = i + 1 < starts.length ? (starts[i + 1].index ?? body.length) : body.length;
    return { loc: m[1], text: body.slice(textStart, textEnd).trim() };
  });
  return { parts, more };
}

/** `routes[1].match` → `["routes", 1, "match"]`; `prices['a/b'].x` → `["prices", "a/b", "x"]`. */
export function parseRulesLoc(loc: string): (string | number)[] {
  const out: (string | number)[] = [];
  const token = /^(?:([A-Za-z_]\w*)|\.([A-Za-z_]\w*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\])/;
  let rest = loc;
  while (rest) {
    const m = token.exec(rest);
    if (!m) return [loc];
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(m[2]);
    else if (m[3] !== undefined) out.push(Number(m[3]));
    else out.push((m[4] ?? m[5] ?? "").replace(/\\(.)/g, "$1"));
    rest = rest.slice(m[0].length);
  }
  return out;
}

function capitalise(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

const ROUTE_FIELDS = ["match", "model", "max_tokens"];
const PRICE_FIELDS = ["input_per_mtok", "output_per_mtok"];

function rulesField(path: (string | number)[], form: RulesForm): { field: string; prefix?: string } | null {
  const [head, second, third] = path;
  if (head === "default_model" && path.length === 1) return { field: "default_model" };
  if (head === "routes") {
    if (path.length === 1) return { field: "routes" };
    if (typeof second !== "number" || second >= form.routes.length) return null;
    if (typeof third === "string" && ROUTE_FIELDS.includes(third) && path.length === 3) {
      return { field: `routes.${second}.${third}` };
    }
    return { field: `routes.${second}.match`, prefix: path.slice(2).join(".") };
  }
  if (head === "prices") {
    if (path.length === 1) return { field: "prices" };
    const index = form.prices.findIndex((p) => p.model.trim() === second);
    if (index < 0) return null;
    if (typeof third === "string" && PRICE_FIELDS.includes(third) && path.length === 3) {
      return { field: `prices.${index}.${third}` };
    }
    return { field: `prices.${index}.model`, prefix: path.slice(2).join(".") };
  }
  return null;
}

function addField(errors: ServerErrors, field: string, message: string): void {
  errors.fields[field] = errors.fields[field] ? `${errors.fields[field]}; ${message}` : message;
}

/** A failed PUT /router/admin/rules's message, split into the fields it names and the rest. */
export function rulesServerErrors(message: string, form: RulesForm): ServerErrors {
  const errors: ServerErrors = { fields: {}, general: [] };
  const { parts, more } = splitRulesMessage(message);
  for (const part of parts) {
    const target = part.loc === null ? null : rulesField(parseRulesLoc(part.loc), form);
    if (target)
      addField(errors, target.field, capitalise(target.prefix ? `${target.prefix}: ${part.text}` : part.text));
    else errors.general.push(part.loc === null ? part.text : `${part.loc}: ${part.text}`);
  }
  if (more > 0)
    errors.general.push(`The server found ${more} more problem${more === 1 ? "" : "s"}; fix these and save again.`);
  return errors;
}

function cleanPydantic(msg: string): string {
  return capitalise(msg.replace(/^Value error, /, "").trim());
}

const CAP_FIELDS = ["daily_cost_cap_usd", "monthly_cost_cap_usd", "tenant_id"];

/**
 * A failed PUT /router/admin/budgets's message (`<dotted loc>: <msg>`), mapped to a field. Tenant
 * and agent ids may themselves contain dots, so the id is matched against the form's rows.
 */
export function budgetsServerErrors(message: string, form: BudgetsForm): ServerErrors {
  const errors: ServerErrors = { fields: {}, general: [] };
  const at = message.indexOf(": ");
  if (at < 0) return { fields: {}, general: [message] };
  const loc = message.slice(0, at);
  const msg = cleanPydantic(message.slice(at + 2));

  if (loc === "global_daily_cost_cap_usd") {
    addField(errors, loc, msg);
    return errors;
  }
  for (const group of ["tenants", "agents"] as const) {
    if (!loc.startsWith(`${group}.`)) continue;
    const rest = loc.slice(group.length + 1);
    const rows: TenantCapRow[] = form[group];
    // An agent cap's location is `<tenant>.<agent>` (or `<agent>` alone in the flat shape).
    const keyOf = (row: TenantCapRow) =>
      "tenant_id" in row && typeof row.tenant_id === "string" && row.tenant_id.trim()
        ? `${row.tenant_id.trim()}.${row.id.trim()}`
        : row.id.trim();
    let best = -1;
    rows.forEach((row, i) => {
      const id = keyOf(row);
      if ((rest === id || rest.startsWith(`${id}.`)) && (best < 0 || id.length > keyOf(rows[best]).length)) best = i;
    });
    if (best < 0) break;
    const sub = rest.slice(keyOf(rows[best]).length + 1);
    if (CAP_FIELDS.includes(sub) && (sub !== "tenant_id" || group === "agents")) {
      addField(errors, `${group}.${best}.${sub}`, msg);
    } else {
      addField(errors, `${group}.${best}.id`, sub ? `${sub}: ${msg}` : msg);
    }
    return errors;
  }
  errors.general.push(`${loc}: ${msg}`);
  return errors;
}

/** Drops the errors of one field (after the user edits it). */
export function withoutField(errors: FieldErrors, field: string): FieldErrors {
  if (!(field in errors)) return errors;
  const next = { ...errors };
  delete next[field];
  return next;
}
