import { describe, expect, it, vi, afterEach } from "vitest";
import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import { Providers } from "../../app/providers";
import { tokenStore } from "../../lib/session";
import { AgentsPanel } from "../agents/components/AgentsPanel";
import { SessionGate } from "./session";

function respond(routes: Record<string, [number, unknown]>) {
  return vi.fn(async (input: RequestInfo | URL) => {
    const path = String(input).replace(/\?.*$/, "");
    const [status, body] = routes[path] ?? [404, { error: "no route", code: "NOT_FOUND" }];
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  });
}

const agent = {
  id: "mail-bot",
  agent_id: "mail-bot",
  tenant_id: "t1",
  name: "Mail bot",
  status: "running",
  workspace: "w",
  heartbeatMinutes: 30,
  lastHeartbeatAt: null,
  lastMessageAt: null,
  lastMessage: "triage inbox now",
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
};

function renderApp() {
  return render(
    <Providers>
      <MemoryRouter>
        <SessionGate>
          <AgentsPanel selectedId="mail-bot" onSelect={() => undefined} />
        </SessionGate>
      </MemoryRouter>
    </Providers>,
  );
}

describe("session gate", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("shows sign-in when there is no token", () => {
    renderApp();
    expect(screen.getByRole("heading", { name: "Sign in to Talkative" })).toBeInTheDocument();
  });

  it("signs in when a login link is pasted into a tab showing sign-in (hashchange)", async () => {
    const fetchMock = respond({
      "/auth/me": [200, { sub: "v", role: "viewer", tenant_id: "t1", platform_admin: false }],
      "/agents": [200, { agents: [agent] }],
      "/skills": [200, { skills: [] }],
    });
    vi.stubGlobal("fetch", fetchMock);
    renderApp();
    expect(screen.getByRole("heading", { name: "Sign in to Talkative" })).toBeInTheDocument();
    window.history.replaceState(null, "", "/#token=linked-token");
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(await screen.findByText("Mail bot")).toBeInTheDocument();
    expect(tokenStore.get()).toBe("linked-token");
    expect(window.location.hash).toBe("");
    const [, init] = fetchMock.mock.calls.find(([url]) => String(url) === "/auth/me") as unknown as [
      string,
      RequestInit,
    ];
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer linked-token");
  });

  it("hides write buttons from a viewer", async () => {
    tokenStore.set("viewer-token");
    vi.stubGlobal(
      "fetch",
      respond({
        "/auth/me": [200, { sub: "v", role: "viewer", tenant_id: "t1", platform_admin: false }],
        "/agents": [200, { agents: [agent] }],
        "/skills": [200, { skills: [] }],
      }),
    );
    renderApp();
    expect(await screen.findByText("Mail bot")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Create" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Stop" })).toBeNull();
    // The agent's page is open to a viewer, without the words for what only operators may do.
    expect(screen.getByRole("link", { name: "Open Mail bot: settings, skills, files" })).toHaveAttribute(
      "href",
      "/agent/mail-bot",
    );
  });

  it("shows write buttons to an operator", async () => {
    tokenStore.set("op-token");
    vi.stubGlobal(
      "fetch",
      respond({
        "/auth/me": [200, { sub: "o", role: "operator", tenant_id: "t1", platform_admin: false }],
        "/agents": [200, { agents: [agent] }],
        "/skills": [200, { skills: [] }],
        "/agents/mail-bot/skills": [200, { skills: [] }],
      }),
    );
    renderApp();
    expect(await screen.findByRole("button", { name: "Stop" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Create" })).toBeInTheDocument();
  });

  it("goes back to sign-in with a message when the token has expired", async () => {
    tokenStore.set("expired");
    vi.stubGlobal("fetch", respond({ "/auth/me": [401, { error: "token expired", code: "TOKEN_EXPIRED" }] }));
    renderApp();
    expect(await screen.findByText("Your session expired — sign in again")).toBeInTheDocument();
    expect(tokenStore.get()).toBeNull();
  });
});
