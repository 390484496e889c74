import { afterEach, describe, expect, it } from "vitest";
import { applyTheme, nextPreference, parsePreference, resolveTheme, themeStore } from "./theme";

describe("theme", () => {
  afterEach(() => localStorage.clear());

  it.each([
    ["system", true, "dark"],
    ["system", false, "light"],
    ["light", true, "light"],
    ["dark", false, "dark"],
  ] as const)("%s with a dark system (%s) is %s", (preference, systemDark, theme) => {
    expect(resolveTheme(preference, systemDark)).toBe(theme);
  });

  it("cycles system, light, dark", () => {
    expect(nextPreference("system")).toBe("light");
    expect(nextPreference("light")).toBe("dark");
    expect(nextPreference("dark")).toBe("system");
  });

  it("reads anything unknown as the system's", () => {
    expect(parsePreference(null)).toBe("system");
    expect(parsePreference("purple")).toBe("system");
    expect(parsePreference("dark")).toBe("dark");
  });

  it("remembers a choice and forgets it when back to the system's", () => {
    themeStore.set("dark");
    expect(themeStore.get()).toBe("dark");
    expect(localStorage.getItem("talkative.theme")).toBe("dark");
    themeStore.set("system");
    expect(localStorage.getItem("talkative.theme")).toBeNull();
    expect(themeStore.get()).toBe("system");
  });

  it("marks the document", () => {
    applyTheme("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
  });
});
