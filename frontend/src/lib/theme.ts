/** Light or dark: the system's preference unless the user chose one (remembered in localStorage). */

export type ThemePreference = "system" | "light" | "dark";
export type Theme = "light" | "dark";

const THEME_KEY = "talkative.theme";
const ORDER: readonly ThemePreference[] = ["system", "light", "dark"];
export const DARK_QUERY = "(prefers-color-scheme: dark)";

export function resolveTheme(preference: ThemePreference, systemDark: boolean): Theme {
  if (preference === "system") return systemDark ? "dark" : "light";
  return preference;
}

/** The toggle goes system → light → dark → system. */
export function nextPreference(preference: ThemePreference): ThemePreference {
  return ORDER[(ORDER.indexOf(preference) + 1) % ORDER.length];
}

export function parsePreference(value: string | null): ThemePreference {
  return value === "light" || value === "dark" ? value : "system";
}

export const themeStore = {
  get(): ThemePreference {
    try {
      return parsePreference(localStorage.getItem(THEME_KEY));
    } catch {
      return "system";
    }
  },
  set(preference: ThemePreference): void {
    try {
      if (preference === "system") localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, preference);
    } catch {
      // storage unavailable: the choice lasts for this page only
    }
  },
};

export function systemPrefersDark(win: Window = window): boolean {
  return typeof win.matchMedia === "function" && win.matchMedia(DARK_QUERY).matches;
}

/** Sets `data-theme` on <html>, which styles.css reads. */
export function applyTheme(theme: Theme, doc: Document = document): void {
  doc.documentElement.dataset.theme = theme;
}
