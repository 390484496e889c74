/** The emailed one-click link: `/approvals/<id>#token=<jwt>`, a token good for that approval only. */

import { extractLoginToken } from "../../lib/session";

const PAGE = /^\/approvals\/([A-Za-z0-9_.-]{1,64})\/?$/;

export interface ApprovalLink {
  approvalId: string;
  token: string;
}

/** The approval a path names (`/approvals/<id>`), or null. */
export function approvalIdOf(pathname: string): string | null {
  return PAGE.exec(pathname)?.[1] ?? null;
}

/**
 * If this page was opened through an approval link, takes its token out of the address bar
 * (history.replaceState, so it is neither kept in the history nor bookmarked) and returns it.
 * The token is NOT stored as the session: it acts on this one approval, for this page only.
 */
export function takeApprovalLink(win: Window = window): ApprovalLink | null {
  const approvalId = approvalIdOf(win.location.pathname);
  if (!approvalId) return null;
  const { token, rest } = extractLoginToken(win.location.hash);
  if (!token) return null;
  win.history.replaceState(win.history.state, "", win.location.pathname + win.location.search + rest);
  return { approvalId, token };
}
