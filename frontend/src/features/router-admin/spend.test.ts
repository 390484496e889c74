import { describe, expect, it } from "vitest";
import {
  barWidth,
  capRatio,
  levelLabel,
  percentText,
  spendBars,
  spendLevel,
  uncappedSpend,
  type BudgetsRead,
} from "./spend";

describe("a cap's ratio, level and percentage", () => {
  it("compares spend with the cap", () => {
    expect(capRatio(0.42, 1)).toBeCloseTo(0.42);
    expect(capRatio(-1, 1)).toBe(0);
    expect(capRatio(0, 0)).toBe(1); // a zero cap is used up from the start
    expect(capRatio(0.01, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it("turns amber near the cap and red at or over it", () => {
    expect(spendLevel(0.79)).toBe("ok");
    expect(spendLevel(0.8)).toBe("near");
    expect(spendLevel(0.999)).toBe("near");
    expect(spendLevel(1)).toBe("over");
    expect(spendLevel(Number.POSITIVE_INFINITY)).toBe("over");
    expect(levelLabel("over", 1, 1)).toBe("at cap");
    expect(levelLabel("over", 2, 1)).toBe("over cap");
    expect(levelLabel("near", 0.9, 1)).toBe("near cap");
  });

  it("never says 100% before the cap is reached", () => {
    expect(percentText(0)).toBe("0%");
    expect(percentText(0.004)).toBe("<1%");
    expect(percentText(0.425)).toBe("42%");
    expect(percentText(0.9999)).toBe("99%");
    expect(percentText(0.29)).toBe("29%"); // 0.29 * 100 is 28.999999999999996 in floats
    expect(percentText(1)).toBe("100%");
    expect(percentText(1.505)).toBe("151%");
    expect(percentText(Number.POSITIVE_INFINITY)).toBe("over cap");
  });

  it("keeps the bar inside its track", () => {
    expect(barWidth(0.5)).toBe(50);
    expect(barWidth(3)).toBe(100);
    expect(barWidth(Number.POSITIVE_INFINITY)).toBe(100);
    expect(barWidth(-1)).toBe(0);
  });
});

const budgets: BudgetsRead = {
  global_daily_cost_cap_usd: 5,
  tenants: {
    "tenant-b": { daily_cost_cap_usd: null, monthly_cost_cap_usd: 10 },
    "tenant-a": { daily_cost_cap_usd: 1, monthly_cost_cap_usd: 10 },
  },
  agents: { "tenant-a": { mailer: { daily_cost_cap_usd: 0.5, monthly_cost_cap_usd: null } } },
  spend: {
    global_day: 4.5,
    tenants: {
      "tenant-a": { day: 1.2, month: 3 },
      "tenant-b": { day: 0, month: 0 },
      "tenant-c": { day: 0.2, month: 0.7 },
    },
    agents: { "tenant-a": { mailer: { day: 0.25, month: 2 } } },
  },
};

describe("spend bars", () => {
  it("has one bar per cap that is set, global first", () => {
    const bars = spendBars(budgets);
    expect(bars.map((b) => [b.id, b.spent, b.cap, b.level, b.percent])).toEqual([
      ["global:All tenants:day", 4.5, 5, "near", "90%"],
      ["tenant:tenant-a:day", 1.2, 1, "over", "120%"],
      ["tenant:tenant-a:month", 3, 10, "ok", "30%"],
      ["tenant:tenant-b:month", 0, 10, "ok", "0%"],
      ["agent:tenant-a/mailer:day", 0.25, 0.5, "ok", "50%"],
    ]);
    expect(bars[1].summary).toBe("$1.20 of $1.00 today (120%)");
    expect(bars[2].summary).toBe("$3.00 of $10.00 this month (30%)");
  });

  it("has no global bar for a tenant-scoped caller (no global_day) and survives missing spend", () => {
    const scoped: BudgetsRead = { ...budgets, spend: { tenants: {}, agents: {} } };
    const bars = spendBars(scoped);
    expect(bars.some((b) => b.scope === "global")).toBe(false);
    expect(bars.find((b) => b.id === "tenant:tenant-a:day")?.spent).toBe(0);
    expect(spendBars({ global_daily_cost_cap_usd: null, tenants: {}, agents: {}, spend: {} })).toEqual([]);
  });

  it("lists spend where no cap is set", () => {
    expect(uncappedSpend(budgets)).toEqual([{ scope: "tenant", name: "tenant-c", day: 0.2, month: 0.7 }]);
    expect(uncappedSpend({ ...budgets, global_daily_cost_cap_usd: null })[0]).toEqual({
      scope: "global",
      name: "All tenants",
      day: 4.5,
      month: null,
    });
  });
});
