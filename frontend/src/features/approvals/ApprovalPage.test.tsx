import { fireEvent, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Providers } from "../../app/providers";
import { calls, respond } from "../../test/fakeApi";
import { LinkedApprovalPage } from "./ApprovalPage";
import type { Approval } from "./queries";

const pending: Approval & { requested_by: string; deadline_at: string } = {
  id: "apr_1",
  tenant_id: "t",
  agent_id: "mailer",
  run_id: "run_1",
  step: 1,
  reason: "refund order 42",
  status: "pending",
  requested_at: "2026-12-03T00:00:00Z",
  decided_at: null,
  decided_by: null,
  note: null,
  run: { run_id: "run_1", agent_id: "mailer", kind: "message", status: "waiting_approval", input: "refund it" },
  gate: null,
  requested_by: "dave",
  deadline_at: "2026-12-03T06:00:00Z",
};

function open() {
  render(
    <Providers>
      <LinkedApprovalPage approvalId="apr_1" token="link-token" />
    </Providers>,
  );
}

describe("LinkedApprovalPage", () => {
  beforeEach(() => {
    calls.length = 0;
    vi.unstubAllGlobals();
  });

  it("shows the approval with the link's token and decides it, then the outcome", async () => {
    const fetchMock = respond({
      "GET /approvals/apr_1": [200, pending],
      "POST /approvals/apr_1/decision": (body) => [
        200,
        {
          ...pending,
          status: "approved",
          decided_by: "olga",
          decided_at: "2026-12-03T01:00:00Z",
          note: (body as { note: string }).note,
        },
      ],
    });
    vi.stubGlobal("fetch", fetchMock);
    open();
    expect(await screen.findByText("refund order 42")).toBeInTheDocument();
    expect(screen.getByText("mailer")).toBeInTheDocument();
    expect(screen.getByText("dave")).toBeInTheDocument();
    expect(screen.getByText(/run_1/)).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText("Note (optional)"), { target: { value: "looks right" } });
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect(await screen.findByText(/Approved by olga/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /approvals/apr_1",
      "POST /approvals/apr_1/decision",
    ]);
    expect(calls[1].body).toEqual({ decision: "approved", note: "looks right" });
    for (const [, init] of fetchMock.mock.calls) {
      expect((init?.headers as Record<string, string>).Authorization).toBe("Bearer link-token");
    }
    expect(localStorage.getItem("talkative.token")).toBeNull();
  });

  it("shows who decided an approval decided meanwhile, with no buttons", async () => {
    vi.stubGlobal(
      "fetch",
      respond({ "GET /approvals/apr_1": [200, { ...pending, status: "rejected", decided_by: "ann" }] }),
    );
    open();
    expect(await screen.findByText(/Rejected by ann/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Reject" })).toBeNull();
  });

  it("says when the link's token is expired or refused", async () => {
    vi.stubGlobal(
      "fetch",
      respond({ "GET /approvals/apr_1": [401, { error: "token expired", code: "TOKEN_EXPIRED" }] }),
    );
    open();
    expect(await screen.findByText(/This link has expired or is no longer valid/)).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open it in Talkative" })).toHaveAttribute("href", "/approvals/apr_1");
  });

  it("under a policy, a first approve vote is recorded and the request waits for the others", async () => {
    const underPolicy = { ...pending, policy: true, required: 2, stage: 0, votes: [] };
    vi.stubGlobal(
      "fetch",
      respond({
        "GET /approvals/apr_1": [200, underPolicy],
        "POST /approvals/apr_1/decision": [
          200,
          {
            ...underPolicy,
            votes: [
              {
                subject: "olga",
                role: "operator",
                decision: "approved",
                stage: 0,
                note: null,
                at: "2026-12-03T01:00:00Z",
              },
            ],
          },
        ],
      }),
    );
    open();
    expect(await screen.findByText(/0 of 2 approvals/)).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    expect(await screen.findByText(/Your vote is recorded/)).toBeInTheDocument();
    expect(screen.getByText(/1 of 2 approvals/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
  });
});
