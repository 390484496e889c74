import { describe, expect, it } from "vitest";
import {
  budgetsDoc,
  budgetsForm,
  budgetsServerErrors,
  checkAmount,
  checkModelName,
  checkRegex,
  emptyAgentCaps,
  emptyRoute,
  parseNumber,
  parseRulesLoc,
  rulesDoc,
  rulesForm,
  rulesServerErrors,
  splitRulesMessage,
  validateBudgets,
  validateRules,
  withoutField,
  type BudgetsForm,
  type RulesForm,
  type RulesRead,
} from "./forms";

const PROVIDERS = ["local", "openai"];

const served: RulesRead = {
  default_model: "local",
  routes: [{ match: "invoice", model: "openai/gpt-4o-mini", max_tokens: 200 }],
  prices: { "openai/gpt-4o-mini": { input_per_mtok: 0.15, output_per_mtok: 0.6 } },
  providers: { local: true, openai: false },
  falls_back: ["openai/gpt-4o-mini"],
};

function form(over: Partial<RulesForm> = {}): RulesForm {
  return { ...rulesForm(served), ...over };
}

describe("numbers typed in fields", () => {
  it("reads plain decimals only", () => {
    expect(parseNumber("")).toEqual({ ok: true, value: null });
    expect(parseNumber(" 1.5 ")).toEqual({ ok: true, value: 1.5 });
    expect(parseNumber(".5")).toEqual({ ok: true, value: 0.5 });
    expect(parseNumber("1e3")).toEqual({ ok: true, value: 1000 });
    for (const bad of ["abc", "1,5", "0x10", "1.2.3", "--1"]) expect(parseNumber(bad).ok).toBe(false);
    expect(parseNumber("1e400")).toEqual({ ok: false, error: "Must be a finite number" });
  });

  it("checks amounts: optional, ≥ 0, bounded", () => {
    expect(checkAmount("")).toBeNull();
    expect(checkAmount("", { required: true })).toBe("Required");
    expect(checkAmount("0")).toBeNull();
    expect(checkAmount("-0.5")).toBe("Must be 0 or more");
    expect(checkAmount("2000000", { max: 1_000_000 })).toBe("Must be at most 1,000,000");
    expect(checkAmount("ten")).toBe("Must be a number");
  });
});

describe("model names and patterns", () => {
  it("accepts local and known <provider>/<model>", () => {
    expect(checkModelName("local", PROVIDERS)).toBeNull();
    expect(checkModelName("openai/gpt-4o-mini", PROVIDERS)).toBeNull();
    expect(checkModelName("openai/org/model:v1", PROVIDERS)).toBeNull();
    expect(checkModelName("", PROVIDERS)).toBe("Required");
    expect(checkModelName("local/x", PROVIDERS)).toMatch(/takes no model part/);
    expect(checkModelName("gpt-4", PROVIDERS)).toMatch(/<provider>\/<model>/);
    expect(checkModelName("OpenAI/x", PROVIDERS)).toMatch(/<provider>\/<model>/);
    expect(checkModelName("foo/bar", PROVIDERS)).toBe("Unknown provider 'foo' (known: local, openai)");
    expect(checkModelName("foo/bar")).toBeNull(); // provider list unknown: left to the server
    expect(checkModelName(`openai/${"m".repeat(101)}`, PROVIDERS)).toMatch(/longer than 100/);
  });

  it("compiles patterns, allowing Python's own syntax", () => {
    expect(checkRegex("invoice|receipt")).toBeNull();
    expect(checkRegex("(?P<n>\\d+)-(?P=n)")).toBeNull();
    expect(checkRegex("(?i)hello")).toBeNull();
    expect(checkRegex("a++")).toBeNull(); // possessive: the server decides
    expect(checkRegex("(invoice")).toMatch(/^Bad regex/);
    expect(checkRegex("")).toBe("Required");
    expect(checkRegex("x".repeat(501))).toMatch(/at most 500/);
  });
});

describe("the rules form", () => {
  it("round-trips what the server serves", () => {
    const f = rulesForm(served);
    expect(f.routes[0]).toMatchObject({ match: "invoice", model: "openai/gpt-4o-mini", max_tokens: "200" });
    expect(f.prices[0]).toMatchObject({ model: "openai/gpt-4o-mini", input_per_mtok: "0.15", output_per_mtok: "0.6" });
    expect(f.routes[0].uid).not.toBe(f.prices[0].uid);
    expect(validateRules(f, PROVIDERS)).toEqual({});
    expect(rulesDoc(f)).toEqual({
      default_model: "local",
      routes: [{ match: "invoice", model: "openai/gpt-4o-mini", max_tokens: 200 }],
      prices: { "openai/gpt-4o-mini": { input_per_mtok: 0.15, output_per_mtok: 0.6 } },
    });
  });

  it("names every invalid field of every row", () => {
    const f = form({
      default_model: "",
      routes: [
        { ...emptyRoute(), match: "", model: "nope", max_tokens: "1.5" },
        { ...emptyRoute(), match: "ok", model: "local", max_tokens: "0" },
        { ...emptyRoute(), match: "(x", model: "openai/x", max_tokens: "200001" },
        { ...emptyRoute(), match: "fine", model: "local", max_tokens: "" },
      ],
      prices: [
        { uid: "p1", model: "local", input_per_mtok: "1", output_per_mtok: "1" },
        { uid: "p2", model: "openai/x", input_per_mtok: "-1", output_per_mtok: "" },
        { uid: "p3", model: "openai/x", input_per_mtok: "1", output_per_mtok: "abc" },
      ],
    });
    expect(validateRules(f, PROVIDERS)).toEqual({
      default_model: "Required",
      "routes.0.match": "Required",
      "routes.0.model": expect.stringMatching(/<provider>\/<model>/),
      "routes.0.max_tokens": "Must be a whole number",
      "routes.1.max_tokens": "Must be at least 1",
      "routes.2.match": expect.stringMatching(/^Bad regex/),
      "routes.2.max_tokens": "Must be at most 200,000",
      "routes.3.max_tokens": "Required",
      "prices.0.model": "Local calls cost nothing; remove this price",
      "prices.1.input_per_mtok": "Must be 0 or more",
      "prices.1.output_per_mtok": "Required",
      "prices.2.model": "This model already has a price",
      "prices.2.output_per_mtok": "Must be a number",
    });
  });

  it("trims what it sends, keeps route order and pattern text as typed", () => {
    const f = form({
      default_model: " openai/gpt-4o-mini ",
      routes: [
        { ...emptyRoute(), match: " b ", model: "local", max_tokens: " 5 " },
        { ...emptyRoute(), match: "a", model: "local", max_tokens: "7" },
      ],
      prices: [],
    });
    expect(rulesDoc(f)).toEqual({
      default_model: "openai/gpt-4o-mini",
      routes: [
        { match: " b ", model: "local", max_tokens: 5 },
        { match: "a", model: "local", max_tokens: 7 },
      ],
      prices: {},
    });
  });
});

describe("the server's rules errors", () => {
  it("splits a message naming several locations", () => {
    expect(
      splitRulesMessage(
        "routes[0].match: bad regex: missing ), unterminated subpattern at position 0; default_model: unknown provider 'foo' (known: local, openai) (and 2 more)",
      ),
    ).toEqual({
      parts: [
        { loc: "routes[0].match", text: "bad regex: missing ), unterminated subpattern at position 0" },
        { loc: "default_model", text: "unknown provider 'foo' (known: local, openai)" },
      ],
      more: 2,
    });
    expect(splitRulesMessage("rules must be valid")).toEqual({
      parts: [{ loc: null, text: "rules must be valid" }],
      more: 0,
    });
  });

  it("parses locations, quoted price keys included", () => {
    expect(parseRulesLoc("routes[12].max_tokens")).toEqual(["routes", 12, "max_tokens"]);
    expect(parseRulesLoc("prices['openai/gpt-4o-mini'].input_per_mtok")).toEqual([
      "prices",
      "openai/gpt-4o-mini",
      "input_per_mtok",
    ]);
    expect(parseRulesLoc("default_model")).toEqual(["default_model"]);
  });

  it("maps each location to the field next to which it is shown", () => {
    const f = form();
    const errors = rulesServerErrors(
      "routes[0].model: unknown provider 'foo' (known: local, openai); prices['openai/gpt-4o-mini'].input_per_mtok: must be >= 0; default_model: must be 'local' or '<provider>/<model>'",
      f,
    );
    expect(errors).toEqual({
      fields: {
        "routes.0.model": "Unknown provider 'foo' (known: local, openai)",
        "prices.0.input_per_mtok": "Must be >= 0",
        default_model: "Must be 'local' or '<provider>/<model>'",
      },
      general: [],
    });
  });

  it("keeps messages it cannot place above the form", () => {
    const f = form();
    expect(rulesServerErrors("routes[5].match: must not be empty", f)).toEqual({
      fields: {},
      general: ["routes[5].match: must not be empty"],
    });
    expect(rulesServerErrors("prices['local']: local calls cost nothing; remove this price", f).general).toEqual([
      "prices['local']: local calls cost nothing; remove this price",
    ]);
    expect(rulesServerErrors("Request failed (HTTP 422)", f)).toEqual({
      fields: {},
      general: ["Request failed (HTTP 422)"],
    });
    expect(rulesServerErrors("routes: must have at most 200 entries (and 1 more)", f)).toEqual({
      fields: { routes: "Must have at most 200 entries" },
      general: ["The server found 1 more problem; fix these and save again."],
    });
  });

  it("puts an invalid price key and unknown row fields on the row's first field", () => {
    const f = form();
    expect(rulesServerErrors("prices['openai/gpt-4o-mini']: unknown provider 'openai'", f).fields).toEqual({
      "prices.0.model": "Unknown provider 'openai'",
    });
    expect(rulesServerErrors("routes[0].weight: unknown field", f).fields).toEqual({
      "routes.0.match": "Weight: unknown field",
    });
  });
});

describe("the budgets form", () => {
  const served = {
    global_daily_cost_cap_usd: 5,
    tenants: { "tenant-a": { daily_cost_cap_usd: 1, monthly_cost_cap_usd: null } },
    agents: { "tenant-a": { mailer: { daily_cost_cap_usd: 0.5, monthly_cost_cap_usd: 10 } } },
    spend: {},
  };

  it("round-trips caps, empty meaning no cap", () => {
    const f = budgetsForm(served);
    expect(f.global_daily_cost_cap_usd).toBe("5");
    expect(f.tenants[0]).toMatchObject({ id: "tenant-a", daily_cost_cap_usd: "1", monthly_cost_cap_usd: "" });
    expect(validateBudgets(f)).toEqual({});
    expect(budgetsDoc(f)).toEqual({
      global_daily_cost_cap_usd: 5,
      tenants: { "tenant-a": { daily_cost_cap_usd: 1, monthly_cost_cap_usd: null } },
      agents: { "tenant-a": { mailer: { daily_cost_cap_usd: 0.5, monthly_cost_cap_usd: 10 } } },
    });
    expect(f.agents[0]).toMatchObject({ id: "mailer", tenant_id: "tenant-a", daily_cost_cap_usd: "0.5" });
    expect(
      budgetsDoc({ ...f, global_daily_cost_cap_usd: " ", agents: [{ ...f.agents[0], tenant_id: "" }] }),
    ).toMatchObject({
      global_daily_cost_cap_usd: null,
      agents: { mailer: { tenant_id: null } },
    });
  });

  it("keeps one agent id of two tenants apart", () => {
    const twice: BudgetsForm = {
      global_daily_cost_cap_usd: "",
      tenants: [],
      agents: [
        { ...emptyAgentCaps(), id: "bot", tenant_id: "tenant-a", daily_cost_cap_usd: "1" },
        { ...emptyAgentCaps(), id: "bot", tenant_id: "tenant-b", daily_cost_cap_usd: "2" },
        { ...emptyAgentCaps(), id: "bot", tenant_id: "tenant-b" },
      ],
    };
    expect(validateBudgets(twice)).toEqual({ "agents.2.id": "This agent is listed twice" });
    expect(budgetsDoc({ ...twice, agents: twice.agents.slice(0, 2) }).agents).toEqual({
      "tenant-a": { bot: { daily_cost_cap_usd: 1, monthly_cost_cap_usd: null } },
      "tenant-b": { bot: { daily_cost_cap_usd: 2, monthly_cost_cap_usd: null } },
    });
  });

  it("refuses negative or non-numeric caps, missing and repeated ids", () => {
    const f: BudgetsForm = {
      global_daily_cost_cap_usd: "-1",
      tenants: [
        { uid: "t1", id: "tenant-a", daily_cost_cap_usd: "1", monthly_cost_cap_usd: "x" },
        { uid: "t2", id: " tenant-a ", daily_cost_cap_usd: "", monthly_cost_cap_usd: "" },
        { uid: "t3", id: "", daily_cost_cap_usd: "0", monthly_cost_cap_usd: "" },
      ],
      agents: [{ ...emptyAgentCaps(), id: "a".repeat(65), tenant_id: "t".repeat(65), daily_cost_cap_usd: "-0.01" }],
    };
    expect(validateBudgets(f)).toEqual({
      global_daily_cost_cap_usd: "Must be 0 or more",
      "tenants.0.monthly_cost_cap_usd": "Must be a number",
      "tenants.1.id": "This tenant is listed twice",
      "tenants.2.id": "Tenant id is required",
      "agents.0.id": "At most 64 characters",
      "agents.0.tenant_id": "At most 64 characters",
      "agents.0.daily_cost_cap_usd": "Must be 0 or more",
    });
  });
});

describe("the server's budgets errors", () => {
  const f: BudgetsForm = {
    global_daily_cost_cap_usd: "",
    tenants: [
      { uid: "a", id: "acme", daily_cost_cap_usd: "", monthly_cost_cap_usd: "" },
      { uid: "b", id: "acme.eu", daily_cost_cap_usd: "", monthly_cost_cap_usd: "" },
    ],
    agents: [
      { uid: "c", id: "mailer", tenant_id: "", daily_cost_cap_usd: "", monthly_cost_cap_usd: "" },
      { uid: "d", id: "mailer", tenant_id: "acme", daily_cost_cap_usd: "", monthly_cost_cap_usd: "" },
    ],
  };

  it("maps dotted locations to rows by id, dotted ids included", () => {
    expect(budgetsServerErrors("global_daily_cost_cap_usd: Input should be greater than or equal to 0", f)).toEqual({
      fields: { global_daily_cost_cap_usd: "Input should be greater than or equal to 0" },
      general: [],
    });
    expect(
      budgetsServerErrors("tenants.acme.eu.daily_cost_cap_usd: Value error, must be a number or null", f).fields,
    ).toEqual({
      "tenants.1.daily_cost_cap_usd": "Must be a number or null",
    });
    expect(budgetsServerErrors("tenants.acme.monthly_cost_cap_usd: Input should be a valid number", f).fields).toEqual({
      "tenants.0.monthly_cost_cap_usd": "Input should be a valid number",
    });
    expect(budgetsServerErrors("agents.mailer.tenant_id: String should have at most 64 characters", f).fields).toEqual({
      "agents.0.tenant_id": "String should have at most 64 characters",
    });
    expect(
      budgetsServerErrors("agents.acme.mailer.daily_cost_cap_usd: Input should be a valid number", f).fields,
    ).toEqual({
      "agents.1.daily_cost_cap_usd": "Input should be a valid number",
    });
    expect(budgetsServerErrors("tenants.acme.hourly_cost_cap_usd: Extra inputs are not permitted", f).fields).toEqual({
      "tenants.0.id": "hourly_cost_cap_usd: Extra inputs are not permitted",
    });
  });

  it("shows what it cannot place above the form", () => {
    expect(budgetsServerErrors("weekly_cost_cap_usd: Extra inputs are not permitted", f)).toEqual({
      fields: {},
      general: ["weekly_cost_cap_usd: Extra inputs are not permitted"],
    });
    expect(budgetsServerErrors("tenants.ghost.daily_cost_cap_usd: bad", f).general).toEqual([
      "tenants.ghost.daily_cost_cap_usd: Bad",
    ]);
    expect(budgetsServerErrors("Budgets are broken", f)).toEqual({ fields: {}, general: ["Budgets are broken"] });
  });

  it("drops a field's error once it is edited", () => {
    const errors = { a: "x", b: "y" };
    expect(withoutField(errors, "a")).toEqual({ b: "y" });
    expect(withoutField(errors, "c")).toBe(errors);
  });
});
