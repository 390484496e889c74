/** Where the bearer token lives between visits, and how the login link hands it over. */

const TOKEN_KEY = "talkative.token";

export const tokenStore = {
  get(): string | null {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string): void {
    localStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    try {
      localStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage unavailable: nothing to clear
    }
  },
};

/**
 * Reads `token=<jwt>` from a URL fragment such as the login link's `#token=...` and returns
 * it with the fragment that should remain once it is stripped (other parameters kept).
 */
export function extractLoginToken(hash: string): { token: string | null; rest: string } {
  const raw = hash.startsWith("#") ? hash.slice(1) : hash;
  if (!raw) return { token: null, rest: "" };
  const params = new URLSearchParams(raw);
  const token = params.get("token")?.trim() || null;
  if (!params.has("token")) return { token: null, rest: hash.startsWith("#") ? hash : `#${hash}` };
  params.delete("token");
  const remaining = params.toString();
  return { token, rest: remaining ? `#${remaining}` : "" };
}

/** A pasted value may be the bare token or the whole login link. */
export function normalizePastedToken(input: string): string | null {
  const text = input.trim();
  if (!text) return null;
  const hashAt = text.indexOf("#");
  if (hashAt >= 0) return extractLoginToken(text.slice(hashAt)).token;
  if (text.toLowerCase().startsWith("bearer ")) return text.slice(7).trim() || null;
  return text;
}

/** If the page was opened through a login link, stores its token and removes it from the address bar. */
export function consumeLoginLink(win: Window = window): string | null {
  const { token, rest } = extractLoginToken(win.location.hash);
  if (!token) return null;
  tokenStore.set(token);
  const url = win.location.pathname + win.location.search + rest;
  win.history.replaceState(win.history.state, "", url);
  return token;
}
