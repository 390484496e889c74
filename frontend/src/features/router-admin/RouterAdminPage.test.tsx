import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { Providers } from "../../app/providers";
import { tokenStore } from "../../lib/session";
import { SessionGate } from "../auth/session";
import { RouterAdminPage } from "./RouterAdminPage";
import { calls, respond, type Handler, type Reply } from "../../test/fakeApi";

const today = new Date().toISOString().slice(0, 10);
const usageRow = (id: number, over: Record<string, unknown> = {}) => ({
  id,
  tenant_id: "tenant-a",
  agent_id: "mailer",
  run_id: null,
  model: "openai/gpt-4o-mini",
  prompt_tokens: 100,
  completion_tokens: 50,
  tokens: 150,
  cost: 0.25,
  latency_ms: 420,
  status: "ok",
  error: null,
  created_at: `${today}T08:0${id}:00Z`,
  ...over,
});

const totals = {
  requests: 3,
  errors: 1,
  prompt_tokens: 300,
  completion_tokens: 150,
  tokens: 450,
  cost: 0.75,
  error_rate: 0.3333,
};
const metrics = {
  totals,
  per_model: [{ ...totals, model: "openai/gpt-4o-mini" }],
  per_day: [{ ...totals, day: today }],
  per_tenant: [{ ...totals, key: "tenant-a" }],
  per_agent: [{ ...totals, key: "mailer" }],
};
const rules = {
  default_model: "local",
  routes: [{ match: "invoice", model: "openai/gpt-4o-mini", max_tokens: 200 }],
  prices: { "openai/gpt-4o-mini": { input_per_mtok: 0.15, output_per_mtok: 0.6 } },
  providers: { local: true, openai: true },
  falls_back: [],
};
const budgets = {
  global_daily_cost_cap_usd: 5,
  tenants: { "tenant-a": { daily_cost_cap_usd: 1, monthly_cost_cap_usd: 10 } },
  agents: {},
  spend: { global_day: 0.75, tenants: { "tenant-a": { day: 0.9, month: 0.9 } }, agents: {} },
};
const usage = {
  usage: [
    usageRow(1),
    usageRow(2, { status: "error", error: "timeout: provider slow", cost: 0, tokens: 0 }),
    usageRow(3, { model: "local", cost: 0 }),
  ],
};

function routes(role: "viewer" | "admin", extra: Record<string, Handler> = {}): Record<string, Handler> {
  return {
    "GET /auth/me": [
      200,
      { sub: role, role, tenant_id: role === "admin" ? null : "tenant-a", platform_admin: role === "admin" },
    ],
    "GET /router/metrics": [200, metrics],
    "GET /router/admin/usage": [200, usage],
    "GET /router/admin/rules": [200, rules],
    "GET /router/admin/budgets": [200, budgets],
    ...extra,
  };
}

function renderPage() {
  return render(
    <Providers>
      <SessionGate>
        <RouterAdminPage />
      </SessionGate>
    </Providers>,
  );
}

describe("Router Admin page", () => {
  beforeEach(() => {
    calls.length = 0;
    tokenStore.set("token");
    vi.stubGlobal(
      "ResizeObserver",
      class {
        observe() {}
        unobserve() {}
        disconnect() {}
      },
    );
  });
  afterEach(() => vi.unstubAllGlobals());

  it("shows metrics, charts, one table row per call and spend to a viewer, read-only", async () => {
    vi.stubGlobal("fetch", respond(routes("viewer")));
    renderPage();

    const requests = await screen.findByTestId("metric-requests");
    expect(requests).toHaveTextContent("3");
    expect(screen.getByRole("group", { name: "Cost (USD)" })).toHaveTextContent("$0.75");
    expect(screen.getByRole("group", { name: "Error rate" })).toHaveTextContent("33.3%");
    expect(screen.getByRole("group", { name: "Tokens" })).toHaveTextContent("450");

    const table = await screen.findByTestId("usage-table");
    expect(within(table).getAllByTestId("usage-row")).toHaveLength(3);
    expect(table.querySelectorAll("tbody tr")).toHaveLength(3);
    expect(within(table).getByText("timeout: provider slow")).toBeInTheDocument();
    // The charts are a lazily loaded chunk (recharts): its first import in a cold test worker can
    // take longer than findBy's default second.
    expect(await screen.findByTestId("usage-chart", {}, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.getByTestId("usage-chart-cost")).toBeInTheDocument();

    const tenantDaily = await screen.findByRole("meter", { name: "tenant-a daily cap" });
    expect(tenantDaily).toHaveAttribute("aria-valuetext", "$0.90 of $1.00 today (90%)");
    expect(tenantDaily.closest("li")).toHaveAttribute("data-level", "near");
    // a viewer sees no platform-wide spend bar unless the server sent global_day (it did here)
    expect(screen.getByRole("meter", { name: "All tenants daily cap" })).toBeInTheDocument();

    expect(await screen.findByText("Only admins can change the routing rules.")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Save/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Add/ })).toBeNull();
    expect(screen.queryByLabelText("Tenant")).toBeNull(); // a tenant-scoped caller has no tenant menu
  });

  it("lets a tenant's admin edit its budgets but not the platform-wide cap or the rules", async () => {
    const tenantAdmin = { sub: "ta", role: "admin", tenant_id: "tenant-a", platform_admin: false };
    vi.stubGlobal("fetch", respond(routes("admin", { "GET /auth/me": [200, tenantAdmin] })));
    renderPage();

    expect(await screen.findByRole("button", { name: "Save budgets" })).toBeInTheDocument();
    expect(screen.getByLabelText("Global daily cap (USD, all tenants)")).toBeDisabled();
    expect(
      await screen.findByText(
        "Routing rules cover every tenant, so only a platform admin (a token without a tenant) can change them.",
      ),
    ).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save rules" })).toBeNull();
  });

  it("filters the table by status without asking the server", async () => {
    vi.stubGlobal("fetch", respond(routes("viewer")));
    renderPage();
    await screen.findByTestId("usage-table");
    const before = calls.filter((c) => c.path === "/router/admin/usage").length;
    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "error" } });
    await waitFor(() => expect(within(screen.getByTestId("usage-table")).getAllByTestId("usage-row")).toHaveLength(1));
    expect(calls.filter((c) => c.path === "/router/admin/usage")).toHaveLength(before);
  });

  it("says in words when a request fails", async () => {
    vi.stubGlobal(
      "fetch",
      respond(
        routes("viewer", {
          "GET /router/metrics": [403, { error: "role viewer may not read metrics", code: "ROLE_FORBIDDEN" }],
        }),
      ),
    );
    renderPage();
    expect(await screen.findByText("role viewer may not read metrics")).toBeInTheDocument();
    expect(await screen.findByTestId("usage-table")).toBeInTheDocument();
  });

  it("shows the empty chart state when there is no usage", async () => {
    vi.stubGlobal("fetch", respond(routes("viewer", { "GET /router/admin/usage": [200, { usage: [] }] })));
    renderPage();
    expect(await screen.findByTestId("usage-chart-empty")).toBeInTheDocument();
    expect(screen.getByText("No calls match these filters.")).toBeInTheDocument();
  });

  it("validates rules before saving and shows the server's 422 next to the field", async () => {
    const put = vi.fn((): Reply => [
      422,
      { error: "routes[0].match: bad regex: unknown extension ?<x", code: "INVALID_RULES" },
    ]);
    vi.stubGlobal("fetch", respond(routes("admin", { "PUT /router/admin/rules": put })));
    renderPage();

    const maxTokens = await screen.findByLabelText("Max tokens");
    fireEvent.change(maxTokens, { target: { value: "-5" } });
    fireEvent.click(screen.getByRole("button", { name: "Save rules" }));
    expect(await screen.findByText("Must be at least 1")).toBeInTheDocument();
    expect(maxTokens).toHaveAttribute("aria-invalid", "true");
    expect(put).not.toHaveBeenCalled();

    fireEvent.change(maxTokens, { target: { value: "300" } });
    fireEvent.click(screen.getByRole("button", { name: "Save rules" }));
    expect(await screen.findByText("Bad regex: unknown extension ?<x")).toBeInTheDocument();
    expect(put).toHaveBeenCalledTimes(1);
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({
      default_model: "local",
      routes: [{ match: "invoice", model: "openai/gpt-4o-mini", max_tokens: 300 }],
      prices: { "openai/gpt-4o-mini": { input_per_mtok: 0.15, output_per_mtok: 0.6 } },
    });
    expect(screen.getByLabelText("Pattern (regex)")).toHaveAttribute("aria-invalid", "true");
  });

  it("saves budgets and shows a server error it cannot place above the form", async () => {
    const put = vi.fn((): Reply => [
      422,
      { error: "weekly_cost_cap_usd: Extra inputs are not permitted", code: "INVALID_BUDGETS" },
    ]);
    vi.stubGlobal("fetch", respond(routes("admin", { "PUT /router/admin/budgets": put })));
    renderPage();

    const global = await screen.findByLabelText("Global daily cap (USD, all tenants)");
    fireEvent.change(global, { target: { value: "abc" } });
    fireEvent.click(screen.getByRole("button", { name: "Save budgets" }));
    expect(await screen.findByText("Must be a number")).toBeInTheDocument();
    expect(put).not.toHaveBeenCalled();

    fireEvent.change(global, { target: { value: "" } });
    fireEvent.click(screen.getByRole("button", { name: "Save budgets" }));
    expect(await screen.findByText("weekly_cost_cap_usd: Extra inputs are not permitted")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({
      global_daily_cost_cap_usd: null,
      tenants: { "tenant-a": { daily_cost_cap_usd: 1, monthly_cost_cap_usd: 10 } },
      agents: {},
    });
  });
});
