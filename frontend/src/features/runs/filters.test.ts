import { describe, expect, it } from "vitest";
import { describeFilters, filtersFromParams, filtersToParams, filtersToQuery, NO_FILTERS } from "./filters";

const NOW = Date.parse("2026-12-03T12:00:00Z");

describe("runs list filters in the URL", () => {
  it("reads what the URL names", () => {
    const filters = filtersFromParams(new URLSearchParams("agent=ana&status=rejected&kind=task&range=24h"));
    expect(filters).toEqual({ agent: "ana", status: "rejected", kind: "task", range: "24h", from: "", to: "" });
  });

  it("drops unknown statuses, kinds and ranges instead of sending them", () => {
    const filters = filtersFromParams(new URLSearchParams("status=exploded&kind=nope&range=2y"));
    expect(filters).toEqual(NO_FILTERS);
  });

  it("keeps dates only for a custom range, and only well-formed ones", () => {
    expect(filtersFromParams(new URLSearchParams("from=2026-12-01&to=2026-12-02"))).toEqual(NO_FILTERS);
    expect(filtersFromParams(new URLSearchParams("range=custom&from=2026-12-01&to=yesterday"))).toMatchObject({
      range: "custom",
      from: "2026-12-01",
      to: "",
    });
  });

  it("round-trips through the URL, writing only what is set", () => {
    const filters = { ...NO_FILTERS, agent: "bob", range: "custom" as const, from: "2026-11-01", to: "2026-11-30" };
    const params = filtersToParams(filters);
    expect(params.toString()).toBe("agent=bob&range=custom&from=2026-11-01&to=2026-11-30");
    expect(filtersFromParams(params)).toEqual(filters);
    expect(filtersToParams(NO_FILTERS).toString()).toBe("");
  });

  it("leaves dates out of the URL when the range is not custom", () => {
    expect(filtersToParams({ ...NO_FILTERS, range: "7d", from: "2026-11-01" }).toString()).toBe("range=7d");
  });
});

describe("runs list filters as the API's query", () => {
  it("maps fields to the API's names and leaves the rest out", () => {
    expect(filtersToQuery(NO_FILTERS, NOW)).toEqual({});
    expect(filtersToQuery({ ...NO_FILTERS, agent: "ana", status: "failed", kind: "heartbeat" }, NOW)).toEqual({
      agent_id: "ana",
      status: "failed",
      kind: "heartbeat",
    });
  });

  it("counts a preset back from now", () => {
    expect(filtersToQuery({ ...NO_FILTERS, range: "1h" }, NOW)).toEqual({ since: "2026-12-03T11:00:00.000Z" });
    expect(filtersToQuery({ ...NO_FILTERS, range: "7d" }, NOW)).toEqual({ since: "2026-11-26T12:00:00.000Z" });
  });

  it("takes custom days as whole local days: since the first midnight, until the midnight after the last", () => {
    const query = filtersToQuery({ ...NO_FILTERS, range: "custom", from: "2026-11-01", to: "2026-11-30" }, NOW);
    expect(query.since).toBe(new Date(2026, 10, 1).toISOString());
    expect(query.until).toBe(new Date(2026, 11, 1).toISOString());
    expect(Date.parse(query.until!) - Date.parse(query.since!)).toBeGreaterThan(29 * 86_400_000);
  });
});

describe("describeFilters", () => {
  it("says the filters in words", () => {
    expect(describeFilters(NO_FILTERS)).toBe("");
    expect(describeFilters({ ...NO_FILTERS, agent: "ana", status: "waiting_approval", range: "24h" })).toBe(
      "agent ana, waiting approval, last 24h",
    );
  });
});
