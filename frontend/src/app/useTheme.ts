import { useCallback, useEffect, useState } from "react";
import {
  applyTheme,
  DARK_QUERY,
  nextPreference,
  resolveTheme,
  systemPrefersDark,
  themeStore,
  type ThemePreference,
} from "../lib/theme";

/** The theme in force, following the system's preference live while the user has not chosen. */
export function useTheme() {
  const [preference, setPreference] = useState<ThemePreference>(() => themeStore.get());
  const [systemDark, setSystemDark] = useState(() => systemPrefersDark());

  useEffect(() => {
    if (typeof window.matchMedia !== "function") return;
    const media = window.matchMedia(DARK_QUERY);
    const changed = () => setSystemDark(media.matches);
    media.addEventListener("change", changed);
    return () => media.removeEventListener("change", changed);
  }, []);

  const theme = resolveTheme(preference, systemDark);
  useEffect(() => applyTheme(theme), [theme]);

  const toggle = useCallback(() => {
    setPreference((current) => {
      const next = nextPreference(current);
      themeStore.set(next);
      return next;
    });
  }, []);
  return { preference, theme, toggle };
}
