import { describe, expect, it } from "vitest";

/** STYLE.md: split a component before ~250 lines; no page-sized components. */
const MAX_COMPONENT_LINES = 250;

const sources = import.meta.glob<string>(["./**/*.tsx", "!./**/*.test.tsx"], {
  query: "?raw",
  import: "default",
  eager: true,
});

describe("component size", () => {
  it("finds the components", () => {
    expect(Object.keys(sources)).toContain("./features/router-admin/components/RulesPanel.tsx");
  });
  it.each(Object.entries(sources))("%s is under the limit", (_path, text) => {
    expect(text.split("\n").length).toBeLessThanOrEqual(MAX_COMPONENT_LINES);
  });
});
