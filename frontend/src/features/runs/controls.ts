/** Which of pause / resume / cancel a run offers, from its status, what the server allows and the role. */

export type RunAction = "pause" | "resume" | "cancel";
export const RUN_ACTIONS: readonly RunAction[] = ["pause", "resume", "cancel"];

/** Mirrors the run reducer (talkative/runs/reducer.py): the user-facing moves out of each status. */
const BY_STATUS: Record<string, readonly RunAction[]> = {
  pending: ["pause", "cancel"],
  running: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  waiting_approval: ["cancel"],
};

/**
 * The buttons to show: none for a role that may not operate; otherwise the moves the status
 * allows, narrowed to the server's `allowed_actions` when it sent them (it has the last word).
 */
export function runControls(
  status: string,
  allowedActions: readonly string[] | null | undefined,
  canOperate: boolean,
): RunAction[] {
  if (!canOperate) return [];
  const byStatus = BY_STATUS[status] ?? [];
  return byStatus.filter((a) => !allowedActions || allowedActions.includes(a));
}

export const ACTION_LABELS: Record<RunAction, string> = { pause: "Pause", resume: "Resume", cancel: "Cancel" };

/** What the button does, in words, for its title. */
export const ACTION_HINTS: Record<RunAction, string> = {
  pause: "Let the step in progress finish, then start no new one until resumed",
  resume: "Go on with the next step",
  cancel: "Stop the run now (a running skill is killed); this cannot be undone",
};

const TERMINAL = new Set(["completed", "rejected", "failed", "cancelled"]);

export function isFinished(status: string): boolean {
  return TERMINAL.has(status);
}

/** One sentence on what a status means, where the badge alone could mislead. */
export function statusExplanation(status: string): string | null {
  switch (status) {
    case "rejected":
      return "A person rejected a step: the run ended without it (not completed).";
    case "paused":
      return "Paused: no new step starts until it is resumed.";
    case "waiting_approval":
      return "Waiting for a person to approve or reject a step.";
    case "pending":
      return "Queued: a worker will pick it up.";
    default:
      return null;
  }
}
