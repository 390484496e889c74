import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { describe, expect, it } from "vitest";
import { Providers } from "../../../app/providers";
import type { Approval } from "../inbox";
import { InboxItem } from "./InboxItem";

const base: Approval = {
  id: "apr_1",
  tenant_id: "t",
  agent_id: "mailer",
  run_id: "run_1",
  step: 1,
  reason: "transfer funds",
  status: "pending",
  requested_at: "2026-12-03T00:00:00Z",
  decided_at: null,
  decided_by: null,
  note: null,
  run: { run_id: "run_1", agent_id: "mailer", kind: "message", status: "waiting_approval", input: "pay it" },
  gate: {
    idx: 1,
    name: "approval",
    task: "transfer",
    status: "waiting",
    guards: [
      {
        idx: 2,
        kind: "tool",
        name: "Run mail-triage",
        status: "pending",
        skill: "mail-triage",
        command: "python t.py",
      },
    ],
  },
};

function show(approval: Approval, canDecide = true) {
  render(
    <Providers>
      <MemoryRouter>
        <ul>
          <InboxItem approval={approval} canDecide={canDecide} />
        </ul>
      </MemoryRouter>
    </Providers>,
  );
}

describe("InboxItem", () => {
  it("offers the decision on a pending request, with its run and what it will do", () => {
    show(base);
    expect(screen.getByRole("button", { name: "Approve" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "run_1" })).toHaveAttribute("href", "/runs/run_1");
    expect(screen.getByRole("link", { name: "Page of approval apr_1" })).toHaveAttribute("href", "/approvals/apr_1");
    expect(screen.getByText(/run the skill mail-triage/)).toBeInTheDocument();
  });

  it("offers no decision to a viewer", () => {
    show(base, false);
    expect(screen.queryByRole("button", { name: "Approve" })).not.toBeInTheDocument();
  });

  it("shows a request whose run was cancelled as cancelled, without buttons", () => {
    show({ ...base, run: { ...base.run!, status: "cancelled" } });
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
    expect(screen.getByText("Cancelled: its run is cancelled")).toBeInTheDocument();
  });

  it("shows a request under a policy: n of m approvals, its stage, deadline and votes", () => {
    show({
      ...base,
      policy: true,
      required: 2,
      stage: 1,
      deadline_at: "2099-01-01T00:00:00Z",
      approvers: { roles: ["operator"], subjects: [] },
      votes: [
        { subject: "ana", role: "operator", decision: "approved", stage: 1, note: "fine", at: "2026-12-03T00:01:00Z" },
      ],
    });
    expect(screen.getByText("1 of 2 approvals")).toBeInTheDocument();
    expect(screen.getByText("stage 2")).toBeInTheDocument();
    expect(screen.getByText(/Deadline/)).toBeInTheDocument();
    expect(screen.getByRole("list", { name: "Votes" })).toHaveTextContent("ana approved — fine");
    expect(screen.getByRole("button", { name: "Approve" })).toBeInTheDocument();
  });

  it("shows no count for a request without a policy", () => {
    show(base);
    expect(screen.queryByText(/of \d+ approval/)).not.toBeInTheDocument();
    expect(screen.queryByText(/Deadline/)).not.toBeInTheDocument();
  });

  it("shows an expired request as expired, its step rejected, without buttons", () => {
    show({
      ...base,
      status: "expired",
      decided_by: "system",
      decided_at: "2026-12-03T01:00:00Z",
      note: "the deadline passed",
      policy: true,
      deadline_at: "2026-12-03T01:00:00Z",
    });
    expect(screen.getByText("Expired: its step was rejected")).toBeInTheDocument();
    expect(screen.getByText("the deadline passed")).toBeInTheDocument();
    expect(screen.getByText("expired")).toHaveClass("badge-expired");
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
    expect(screen.queryByText(/Deadline/)).not.toBeInTheDocument();
  });

  it("says who decided, when, and the note", () => {
    show({ ...base, status: "rejected", decided_by: "ana", decided_at: "2026-12-03T00:05:00Z", note: "not ours" });
    expect(screen.getByText("Rejected by ana")).toBeInTheDocument();
    expect(screen.getByText("not ours")).toBeInTheDocument();
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
  });
});
