import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { Providers } from "../../../app/providers";
import { tokenStore } from "../../../lib/session";
import { calls, respond, type Handler } from "../../../test/fakeApi";
import { SessionGate } from "../../auth/session";
import type { Run } from "../queries";
import { RunControls } from "./RunControls";

const run = {
  run_id: "r1",
  tenant_id: "tenant-a",
  agent_id: "ana",
  kind: "task",
  input: "alpha then beta",
  status: "running",
  subagent_state: "running",
  parent_run_id: null,
  last_error: null,
  reply: null,
  created_at: "2026-12-03T12:00:00Z",
  updated_at: "2026-12-03T12:00:00Z",
  finished_at: null,
  allowed_actions: ["cancel", "complete", "fail", "pause"],
} as unknown as Run;

function me(role: string): Handler {
  return [200, { sub: `u-${role}`, role, tenant_id: "tenant-a", platform_admin: false }];
}

function renderControls(role: string, extra: Record<string, Handler> = {}) {
  vi.stubGlobal("fetch", respond({ "GET /auth/me": me(role), ...extra }));
  return render(
    <Providers>
      <SessionGate>
        <p>signed in</p>
        <RunControls run={run} />
      </SessionGate>
    </Providers>,
  );
}

describe("RunControls", () => {
  beforeEach(() => {
    calls.length = 0;
    tokenStore.set("token");
  });

  it("offers an operator the moves the status allows", async () => {
    renderControls("operator");
    await screen.findByText("signed in");
    expect(screen.getAllByRole("button").map((b) => b.textContent)).toEqual(["Pause", "Cancel…"]);
  });

  it("shows the API's refusal in words", async () => {
    renderControls("operator", {
      "POST /orchestrator/runs/r1/pause": [
        409,
        { error: "cannot pause a run that is completed", code: "INVALID_TRANSITION" },
      ],
    });
    fireEvent.click(await screen.findByRole("button", { name: "Pause" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("cannot pause a run that is completed");
    expect(calls.map((c) => `${c.method} ${c.path}`)).toContain("POST /orchestrator/runs/r1/pause");
  });

  it("asks once more before cancelling", async () => {
    renderControls("operator", { "POST /orchestrator/runs/r1/cancel": [200, { ...run, status: "cancelled" }] });
    fireEvent.click(await screen.findByRole("button", { name: "Cancel…" }));
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Cancel run" }));
    await vi.waitFor(() => expect(calls.map((c) => c.path)).toContain("/orchestrator/runs/r1/cancel"));
  });

  it("offers a viewer nothing", async () => {
    renderControls("viewer");
    await screen.findByText("signed in");
    expect(screen.queryByRole("button")).toBeNull();
  });
});
