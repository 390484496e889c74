import { useTheme } from "./useTheme";

const LABEL = { system: "System", light: "Light", dark: "Dark" } as const;

/** Cycles the theme: the system's, light, dark. */
export function ThemeToggle() {
  const { preference, theme, toggle } = useTheme();
  return (
    <button
      type="button"
      className="secondary small-btn"
      onClick={toggle}
      data-theme-preference={preference}
      aria-label={`Theme: ${LABEL[preference]}${preference === "system" ? ` (${theme})` : ""}. Change theme`}
      title="Change theme (system, light, dark)"
    >
      {theme === "dark" ? "☾" : "☀"} {LABEL[preference]}
    </button>
  );
}
