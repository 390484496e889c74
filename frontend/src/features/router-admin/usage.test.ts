import { describe, expect, it } from "vitest";
import {
  addDays,
  dateRangeError,
  dayRange,
  defaultFilters,
  rangeLabel,
  emptyFilters,
  filterUsage,
  formatCompact,
  formatDay,
  formatLatency,
  formatRate,
  formatUsd,
  formatUsdAxis,
  NO_AGENT,
  options,
  OTHER,
  roundUsd,
  usageByDay,
  usageQuery,
  utcDay,
  type UsageRow,
} from "./usage";

let nextId = 1;
function row(over: Partial<UsageRow> = {}): UsageRow {
  return {
    id: nextId++,
    tenant_id: "t1",
    agent_id: "a1",
    run_id: null,
    model: "local",
    prompt_tokens: 10,
    completion_tokens: 5,
    tokens: 15,
    cost: 0,
    latency_ms: 12,
    status: "ok",
    error: null,
    created_at: "2026-03-02T10:00:00Z",
    ...over,
  };
}

describe("days", () => {
  it("reads UTC days, whatever the offset written", () => {
    expect(utcDay("2026-03-02T23:30:00-02:00")).toBe("2026-03-03");
    expect(utcDay("2026-03-02T00:30:00+01:00")).toBe("2026-03-01");
    expect(utcDay("not a time")).toBeNull();
  });

  it("counts days across month ends and leap days", () => {
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(dayRange("2026-12-30", "2027-01-02")).toEqual(["2026-12-30", "2026-12-31", "2027-01-01", "2027-01-02"]);
    expect(dayRange("2026-01-02", "2026-01-01")).toEqual([]);
  });

  it("refuses impossible ranges", () => {
    expect(dateRangeError("", "")).toBeNull();
    expect(dateRangeError("2026-01-01", "2026-01-01")).toBeNull();
    expect(dateRangeError("2026-01-02", "2026-01-01")).toMatch(/after/);
    expect(dateRangeError("2026-02-30", "")).toMatch(/not a valid date/);
  });

  it("opens on the last 30 days", () => {
    expect(defaultFilters(new Date("2026-03-31T23:00:00Z"))).toEqual({ ...emptyFilters, from: "2026-03-02" });
  });
});

describe("the usage request", () => {
  it("asks the server for tenant, agent and an inclusive date range; nothing for empty filters", () => {
    expect(usageQuery(emptyFilters)).toEqual({ limit: 1000 });
    expect(
      usageQuery({ tenant: "t1", agent: "a1", model: "m", status: "ok", from: "2026-01-01", to: "2026-01-31" }, 50),
    ).toEqual({ tenant_id: "t1", agent_id: "a1", from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", limit: 50 });
  });

  it("does not send half-typed dates", () => {
    expect(usageQuery({ ...emptyFilters, from: "2026-1-1" })).toEqual({ limit: 1000 });
  });
});

describe("filtering the table", () => {
  const rows = [
    row({ model: "local", status: "ok" }),
    row({ model: "openai/gpt-4.1", status: "error", error: "timeout" }),
    row({ model: "openai/gpt-4.1", status: "ok", tenant_id: "t2", agent_id: null }),
    row({ model: "openai/gpt-4.1", status: "reserved", created_at: "2026-03-05T00:00:00Z" }),
  ];

  it("keeps everything with no filter, in order", () => {
    expect(filterUsage(rows, emptyFilters)).toEqual(rows);
  });

  it("combines model, status, tenant and agent", () => {
    expect(filterUsage(rows, { model: "openai/gpt-4.1" }).map((r) => r.id)).toEqual([
      rows[1].id,
      rows[2].id,
      rows[3].id,
    ]);
    expect(filterUsage(rows, { model: "openai/gpt-4.1", status: "ok" })).toEqual([rows[2]]);
    expect(filterUsage(rows, { tenant: "t1", status: "error" })).toEqual([rows[1]]);
    expect(filterUsage(rows, { agent: "a1", model: "openai/gpt-4.1" }).map((r) => r.id)).toEqual([
      rows[1].id,
      rows[3].id,
    ]);
    expect(filterUsage(rows, { status: "error", model: "local" })).toEqual([]);
  });

  it("filters by inclusive UTC days", () => {
    expect(filterUsage(rows, { from: "2026-03-03" })).toEqual([rows[3]]);
    expect(filterUsage(rows, { to: "2026-03-02" })).toHaveLength(3);
    expect(filterUsage(rows, { from: "2026-03-05", to: "2026-03-05" })).toEqual([rows[3]]);
  });

  it("merges filter menu options, keeping the current choice", () => {
    expect(options("zeta", ["b", "a"], ["a", "", "c"])).toEqual(["a", "b", "c", "zeta"]);
    expect(options("", [])).toEqual([]);
  });
});

describe("usage per day", () => {
  it("has no days and no series without usage (the empty state)", () => {
    expect(usageByDay([], "model", { from: "2026-01-01", to: "2026-01-31" })).toEqual({
      series: [],
      cost: [],
      tokens: [],
    });
    expect(usageByDay([row({ created_at: "garbage" })], "model")).toEqual({ series: [], cost: [], tokens: [] });
  });

  it("stacks per key and fills days with no rows with zeros", () => {
    const data = usageByDay(
      [
        row({ created_at: "2026-03-01T09:00:00Z", model: "openai/gpt-4.1", cost: 0.5, tokens: 100 }),
        row({ created_at: "2026-03-01T10:00:00Z", model: "local", cost: 0, tokens: 40 }),
        row({ created_at: "2026-03-03T10:00:00Z", model: "openai/gpt-4.1", cost: 0.25, tokens: 50 }),
      ],
      "model",
    );
    expect(data.series).toEqual([
      { dataKey: "k0", name: "openai/gpt-4.1" },
      { dataKey: "k1", name: "local" },
    ]);
    expect(data.cost).toEqual([
      { day: "2026-03-01", total: 0.5, k0: 0.5, k1: 0 },
      { day: "2026-03-02", total: 0, k0: 0, k1: 0 },
      { day: "2026-03-03", total: 0.25, k0: 0.25, k1: 0 },
    ]);
    expect(data.tokens.map((p) => [p.day, p.k0, p.k1, p.total])).toEqual([
      ["2026-03-01", 100, 40, 140],
      ["2026-03-02", 0, 0, 0],
      ["2026-03-03", 50, 0, 50],
    ]);
  });

  it("spans the chosen range around the rows", () => {
    const data = usageByDay([row({ created_at: "2026-03-02T10:00:00Z" })], "tenant", {
      from: "2026-02-28",
      to: "2026-03-03",
    });
    expect(data.cost.map((p) => p.day)).toEqual(["2026-02-28", "2026-03-01", "2026-03-02", "2026-03-03"]);
  });

  it("shrinks an absurd range to the days that have rows", () => {
    const data = usageByDay([row()], "tenant", { from: "1990-01-01", to: "2026-03-02", maxDays: 100 });
    expect(data.cost.map((p) => p.day)).toEqual(["2026-03-02"]);
  });

  it("rounds money sums to the backend's nano-dollar, not float noise", () => {
    const rows = [0.1, 0.2, 0.000000001].map((cost) => row({ cost }));
    const [point] = usageByDay(rows, "model").cost;
    expect(point.total).toBe(0.300000001);
    expect(point.k0).toBe(0.300000001);
    expect(roundUsd(0.1 + 0.2)).toBe(0.3);
  });

  it("groups by agent with a name for calls without one", () => {
    const data = usageByDay([row({ agent_id: null, cost: 1 }), row({ agent_id: "a1", cost: 2 })], "agent");
    expect(data.series.map((s) => s.name)).toEqual(["a1", NO_AGENT]);
  });

  it("folds the smallest keys into 'other' past the series limit", () => {
    const rows = ["m1", "m2", "m3", "m4"].map((tenant, i) => row({ tenant_id: tenant, cost: i + 1 }));
    const data = usageByDay(rows, "tenant", { maxSeries: 3 });
    expect(data.series.map((s) => s.name)).toEqual(["m4", "m3", OTHER]);
    expect(data.cost[0]).toMatchObject({ k0: 4, k1: 3, k2: 3, total: 10 });
  });

  it("keeps keys with dots out of chart data keys", () => {
    const data = usageByDay([row({ model: "openai/gpt-4.1-mini" })], "model");
    expect(Object.keys(data.tokens[0]).sort()).toEqual(["day", "k0", "total"]);
  });
});

describe("formatting", () => {
  it("shows money readably at every size", () => {
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(0.1 + 0.2)).toBe("$0.30");
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatUsd(0.005)).toBe("$0.005");
    expect(formatUsd(0.000123)).toBe("$0.000123");
    expect(formatUsd(0.0000001)).toBe("<$0.000001");
    expect(formatUsd(0.0099999999)).toBe("$0.01");
    expect(formatUsd(Number.NaN)).toBe("—");
    expect(formatUsd(null)).toBe("—");
  });

  it("labels axes and rates", () => {
    expect(formatUsdAxis(0)).toBe("$0");
    expect(formatUsdAxis(0.00125)).toBe("$0.0013");
    expect(formatUsdAxis(2.5)).toBe("$2.5");
    expect(formatUsdAxis(12500)).toBe("$12.5K");
    expect(formatCompact(1500)).toBe("1.5K");
    expect(formatRate(0.0123)).toBe("1.2%");
    expect(formatRate(0)).toBe("0.0%");
    expect(formatLatency(12.4)).toBe("12 ms");
    expect(formatLatency(1530)).toBe("1.5 s");
    expect(formatDay("2026-01-02")).toBe("Jan 2");
  });
});

describe("rangeLabel", () => {
  const now = new Date("2026-12-02T21:00:00Z");
  it.each([
    ["2026-11-03", "", "Last 30 days (UTC)"],
    ["2026-11-03", "2026-12-02", "Last 30 days (UTC)"],
    ["2026-12-02", "", "Today (UTC)"],
    ["", "", "All time (UTC)"],
    ["", "2026-12-02", "Until today (UTC)"],
    ["", "2026-11-30", "Until 2026-11-30 (UTC)"],
    ["2026-11-01", "2026-11-30", "2026-11-01 to 2026-11-30 (UTC)"],
    ["2026-11-30", "2026-11-30", "2026-11-30 (UTC)"],
    ["2026-12-05", "", "Since 2026-12-05 (UTC)"],
  ])("from %s to %s reads %s", (from, to, expected) => {
    expect(rangeLabel(from, to, now)).toBe(expected);
  });
  it("names the default filters' range as the last 30 days", () => {
    const filters = defaultFilters(now);
    expect(rangeLabel(filters.from, filters.to, now)).toBe("Last 30 days (UTC)");
  });
});
