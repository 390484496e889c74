import { ApiError, errorMessage } from "../../api/client";
import type { Schemas } from "../../api/client";

export type Approval = Schemas["ApprovalRead"];
export type GuardedStep = Schemas["GuardedStep"];
export type ApprovalStatus = Schemas["ApprovalStatus"];
export type Vote = Schemas["VoteRead"];

/** The inbox's status filter ("" = all), in the order the menu lists them. */
export const STATUS_FILTERS: { value: "" | ApprovalStatus; label: string }[] = [
  { value: "", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "approved", label: "Approved" },
  { value: "rejected", label: "Rejected" },
  { value: "cancelled", label: "Cancelled" },
  { value: "expired", label: "Expired" },
];

export function parseStatusFilter(value: string | null): "" | ApprovalStatus {
  return STATUS_FILTERS.some((f) => f.value === value) ? (value as ApprovalStatus) : "";
}

const ENDED_RUN = new Set(["cancelled", "failed", "completed", "rejected"]);

/**
 * Whether a decision can still be taken: the request is pending and its run (if any) has not
 * ended. A run cancelled elsewhere cancels its approvals; until the list is refreshed, its run's
 * status already says so, and no button is offered.
 */
export function isDecidable(approval: Approval): boolean {
  return approval.status === "pending" && !(approval.run && ENDED_RUN.has(approval.run.status));
}

export interface Section {
  key: "pending" | "decided" | "expired" | "cancelled";
  title: string;
  approvals: Approval[];
}

/**
 * Pending first (what waits for someone), then the decided ones, then those whose deadline passed
 * (or that nobody could approve: their step was rejected), then the cancelled; order kept.
 */
export function sections(approvals: Approval[]): Section[] {
  const all: Section[] = [
    { key: "pending", title: "Pending", approvals: approvals.filter(isDecidable) },
    {
      key: "decided",
      title: "Decided",
      approvals: approvals.filter((a) => a.status === "approved" || a.status === "rejected"),
    },
    { key: "expired", title: "Expired", approvals: approvals.filter((a) => a.status === "expired") },
    {
      key: "cancelled",
      title: "Cancelled",
      approvals: approvals.filter((a) => a.status === "cancelled" || (a.status === "pending" && !isDecidable(a))),
    },
  ];
  return all.filter((s) => s.approvals.length > 0);
}

/** Who ended a request, for people: "the system" when no person did. */
export function actorName(decidedBy: string | null | undefined): string {
  if (!decidedBy || decidedBy === "system") return "the system";
  return decidedBy;
}

/** "Approved by ana", "Rejected by ana", "Cancelled by the system", or null while pending. */
export function outcomeText(approval: Approval): string | null {
  const by = actorName(approval.decided_by);
  switch (approval.status) {
    case "approved":
      return `Approved by ${by}`;
    case "rejected":
      return `Rejected by ${by}`;
    case "cancelled":
      return `Cancelled by ${by}`;
    case "expired":
      return "Expired: its step was rejected";
    default:
      return approval.run && ENDED_RUN.has(approval.run.status)
        ? `Cancelled: its run is ${approval.run.status.replace(/_/g, " ")}`
        : null;
  }
}

/** What a guarded step will do once approved, in words. */
export function guardText(step: GuardedStep): string {
  if (step.kind === "tool" && step.skill) return `run the skill ${step.skill}`;
  if (step.kind === "delegate" && step.target_agent_id) {
    return `ask agent ${step.target_agent_id}${step.task ? `: ${step.task}` : ""}`;
  }
  if (step.task) return step.task;
  return step.name;
}

/** A failed decision in words: why it cannot be taken, not the API's raw answer. */
export function decisionErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "ALREADY_DECIDED") {
      return `${errorMessage(error)}. It can no longer be decided; the list now shows how it ended.`;
    }
    if (error.code === "RUN_NOT_WAITING") {
      return `${errorMessage(error)}: its run is no longer waiting for this decision.`;
    }
    if (error.code === "SELF_APPROVAL") return "You asked for this work: someone else must approve it.";
    if (error.code === "NOT_AN_APPROVER") return "You are not one of this request's approvers at its current stage.";
    if (error.code === "ALREADY_VOTED") return "You have voted on this request already; it waits for other approvers.";
    if (error.code === "DEADLINE_PASSED") return "Its deadline has passed: it can no longer be approved.";
    if (error.status === 403) return "Your role may not decide approvals.";
    if (error.status === 404) return "This approval no longer exists (or is not in your tenant).";
  }
  return `The decision was not recorded: ${errorMessage(error)}`;
}

/** A time as a date and clock time, for "when" (the relative time sits next to it). */
export function whenText(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** "1 of 2 approvals" under a policy (approve votes at the current stage), null without one. */
export function progressText(approval: Approval): string | null {
  if (!approval.policy) return null;
  const approving = (approval.votes ?? []).filter(
    (v) => v.stage === approval.stage && v.decision === "approved",
  ).length;
  const required = approval.required ?? 1;
  return `${approving} of ${required} approval${required === 1 ? "" : "s"}`;
}

/** The stage in words, counted from 1 for people ("stage 2"); null for a request without a policy. */
export function stageText(approval: Approval): string | null {
  return approval.policy ? `stage ${(approval.stage ?? 0) + 1}` : null;
}

/** Who may approve at the current stage, in words ("operators, or cfo"). */
export function approversText(approval: Approval): string {
  const roles = (approval.approvers?.roles ?? []).map((r) => `${r}s`);
  const subjects = approval.approvers?.subjects ?? [];
  return [...roles, ...subjects].join(", or ") || "nobody";
}

/** One vote in words: "ana approved", "bob rejected". */
export function voteText(vote: Vote): string {
  return `${vote.subject} ${vote.decision}`;
}

/** How long until a deadline: "in 5 min", "in 2 h", "passed"; `now` is injectable for tests. */
export function untilText(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const s = Math.round((then - now) / 1000);
  if (s <= 0) return "passed";
  if (s < 90) return `in ${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `in ${m} min`;
  const h = Math.round(m / 60);
  if (h < 36) return `in ${h} h`;
  return `in ${Math.round(h / 24)} d`;
}
