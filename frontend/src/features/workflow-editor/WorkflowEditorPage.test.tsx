import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { createMemoryRouter, RouterProvider } from "react-router-dom";
import { Providers } from "../../app/providers";
import { tokenStore } from "../../lib/session";
import { SessionGate } from "../auth/session";
import { EventStreamProvider } from "../events/hooks/useEventStream";
import { WorkflowEditorPage } from "./WorkflowEditorPage";
import { calls, respond, type Handler } from "../../test/fakeApi";

// The graph is a lazy chunk (React Flow): its first import in a test run is transformed on demand,
// which takes over findBy's default second on a busy machine.
const LAZY_LOAD_MS = 10_000;

/** The one EventSource the app opens; tests push events through it. */
class FakeEventSource {
  static CLOSED = 2;
  static last: FakeEventSource | null = null;
  readyState = 1;
  onopen: (() => void) | null = null;
  onmessage: ((m: MessageEvent<string>) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  close() {
    this.readyState = 2;
  }
  emit(data: unknown) {
    this.onmessage?.({ data: JSON.stringify(data), lastEventId: "" } as MessageEvent<string>);
  }
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
  lastMessage: null,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
};
const node = (id: string, name: string, status = "pending") => ({
  id,
  name,
  description: "",
  inputs: [],
  outputs: [],
  status,
  position: null,
  assignedPerson: null,
  metrics: null,
});
type Version = {
  version: number;
  createdAt: string;
  note: string | null;
  run_id: string | null;
  nodes: ReturnType<typeof node>[];
  edges: { id: string; source: string; target: string }[];
};
const v1: Version = {
  version: 1,
  createdAt: "2026-01-01T00:00:00Z",
  note: "first",
  run_id: null,
  nodes: [node("triage", "Triage inbox", "done"), node("reply", "Reply to mail", "active")],
  edges: [{ id: "e1", source: "triage", target: "reply" }],
};
function workflowAt(versions: Version[]) {
  const current = versions[versions.length - 1];
  return {
    id: "agent-wf-mail-bot",
    tenant_id: "t1",
    agent_id: "mail-bot",
    name: "Mail bot workflow",
    version: current.version,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: current.createdAt,
    nodes: current.nodes,
    edges: current.edges,
    versions,
  };
}

function renderPage(role: "operator" | "viewer", routes: Record<string, Handler>) {
  tokenStore.set(`${role}-token`);
  vi.stubGlobal(
    "fetch",
    respond({
      "GET /auth/me": [200, { sub: role, role, tenant_id: "t1", platform_admin: false }],
      "GET /agents": [200, { agents: [agent] }],
      "GET /workflows": [200, { workflows: [] }],
      ...routes,
    }),
  );
  const router = createMemoryRouter(
    [
      {
        path: "/workflow",
        element: (
          <EventStreamProvider>
            <WorkflowEditorPage />
          </EventStreamProvider>
        ),
      },
      { path: "/", element: <p>Mission Control</p> },
    ],
    { initialEntries: ["/workflow?agent=mail-bot"] },
  );
  render(
    <Providers>
      <SessionGate>
        <RouterProvider router={router} future={{ v7_startTransition: true }} />
      </SessionGate>
    </Providers>,
  );
  return router;
}

beforeEach(() => {
  calls.length = 0;
  vi.stubGlobal("EventSource", FakeEventSource);
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

describe("Workflow Editor page", () => {
  it("shows the agent's workflow read-only to a viewer", async () => {
    renderPage("viewer", { "GET /agents/mail-bot/workflow": [200, workflowAt([v1])] });
    const graph = await screen.findByTestId("workflow-graph", {}, { timeout: LAZY_LOAD_MS });
    expect(await within(graph).findByText("Triage inbox")).toBeInTheDocument();
    expect(within(graph).getByText("Reply to mail")).toBeInTheDocument();
    expect(screen.getByTestId("workflow-name")).toHaveTextContent("Mail bot workflow");
    expect(screen.getByLabelText("Show workflow")).toHaveValue("agent:mail-bot");
    expect(screen.queryByRole("button", { name: "Add node" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Save version" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Restore" })).toBeNull();
    expect(screen.queryByRole("button", { name: "New workflow" })).toBeNull();
    expect(within(screen.getByTestId("workflow-version-1")).getByText("first")).toBeInTheDocument();
  });

  it("says in words when the workflow cannot be loaded", async () => {
    renderPage("viewer", {
      "GET /agents/mail-bot/workflow": [404, { error: "agent 'mail-bot' not found", code: "AGENT_NOT_FOUND" }],
    });
    expect(await screen.findByText(/agent 'mail-bot' not found/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Retry" })).toBeInTheDocument();
  });

  it("lets an operator add a node and save it as a new version", async () => {
    const saved = workflowAt([
      v1,
      { ...v1, version: 2, note: "more", nodes: [...v1.nodes, node("archive", "Archive")] },
    ]);
    renderPage("operator", {
      "GET /agents/mail-bot/workflow": [200, workflowAt([v1])],
      "POST /workflow": [201, { ...saved, versions: null }],
    });
    await screen.findByText("Triage inbox", {}, { timeout: LAZY_LOAD_MS });
    expect(screen.getByTestId("workflow-dirty")).toHaveTextContent("No unsaved changes");
    expect(screen.getByRole("button", { name: "Save version" })).toBeDisabled();

    fireEvent.change(screen.getByLabelText("New node name"), { target: { value: "Archive" } });
    fireEvent.click(screen.getByRole("button", { name: "Add node" }));
    expect(await within(screen.getByTestId("workflow-graph")).findByText("Archive")).toBeInTheDocument();
    expect(screen.getByTestId("workflow-dirty")).toHaveTextContent("Unsaved changes");

    fireEvent.change(screen.getByLabelText("Version note"), { target: { value: "more" } });
    fireEvent.click(screen.getByRole("button", { name: "Save version" }));
    await waitFor(() => expect(screen.getByTestId("workflow-dirty")).toHaveTextContent("No unsaved changes"));
    const post = calls.find((c) => c.method === "POST" && c.path === "/workflow")!;
    expect(post.body).toMatchObject({ id: "agent-wf-mail-bot", name: "Mail bot workflow", note: "more" });
    const body = post.body as { nodes: { id: string; name: string; position: unknown }[]; edges: unknown[] };
    expect(body.nodes.map((n) => n.name)).toEqual(["Triage inbox", "Reply to mail", "Archive"]);
    expect(body.nodes.every((n) => n.position !== null)).toBe(true);
    expect(body.edges).toEqual([{ id: "e1", source: "triage", target: "reply" }]);
  });

  it("shows the server's refusal in words", async () => {
    renderPage("operator", {
      "GET /agents/mail-bot/workflow": [200, workflowAt([v1])],
      "POST /workflow": [422, { error: "invalid workflow graph: nodes.2.name: too long", code: "INVALID_WORKFLOW" }],
    });
    await screen.findByText("Triage inbox");
    fireEvent.change(screen.getByLabelText("New node name"), { target: { value: "Archive" } });
    fireEvent.click(screen.getByRole("button", { name: "Add node" }));
    fireEvent.click(screen.getByRole("button", { name: "Save version" }));
    expect(await screen.findByText(/invalid workflow graph: nodes\.2\.name: too long/)).toBeInTheDocument();
    expect(screen.getByTestId("workflow-dirty")).toHaveTextContent("Unsaved changes");
  });

  it("asks before discarding unsaved changes", async () => {
    renderPage("operator", { "GET /agents/mail-bot/workflow": [200, workflowAt([v1])] });
    await screen.findByText("Triage inbox");
    fireEvent.change(screen.getByLabelText("New node name"), { target: { value: "Archive" } });
    fireEvent.click(screen.getByRole("button", { name: "Add node" }));
    fireEvent.click(screen.getByRole("button", { name: "Discard changes" }));
    const dialog = screen.getByRole("alertdialog");
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.getByText("Archive")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Discard changes" }));
    fireEvent.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Yes, discard" }));
    await waitFor(() => expect(screen.queryByText("Archive")).toBeNull());
    expect(screen.getByTestId("workflow-dirty")).toHaveTextContent("No unsaved changes");
  });

  it("refetches when a patch of this workflow arrives live and marks the new nodes", async () => {
    let current = workflowAt([v1]);
    renderPage("viewer", { "GET /agents/mail-bot/workflow": () => [200, current] });
    await screen.findByText("Triage inbox");
    expect(screen.queryByText("new", { selector: ".wf-new-badge" })).toBeNull();

    current = workflowAt([
      v1,
      { ...v1, version: 2, note: "1 node added", nodes: [...v1.nodes, node("archive", "Archive")] },
    ]);
    act(() =>
      FakeEventSource.last!.emit({
        id: 7,
        type: "WORKFLOW_PATCH_APPLIED",
        tenant_id: "t1",
        agent_id: "mail-bot",
        run_id: "r1",
        timestamp: "2026-01-01T00:01:00Z",
        message: "workflow v2: 1 node added",
        payload: { workflowId: "agent-wf-mail-bot", version: 2, summary: "1 node added" },
      }),
    );
    const added = await screen.findByText("Archive");
    const card = added.closest("[data-testid='workflow-node']")!;
    expect(card).toHaveClass("wf-node-new");
    expect(within(card as HTMLElement).getByText("new")).toBeInTheDocument();
    expect(screen.getByTestId("workflow-live-note")).toHaveTextContent("workflow v2: 1 node added");
    expect(screen.getByText("Triage inbox").closest("[data-testid='workflow-node']")).not.toHaveClass("wf-node-new");
  });

  it("keeps unsaved changes when a new version arrives, and offers to load it", async () => {
    let current = workflowAt([v1]);
    renderPage("operator", { "GET /agents/mail-bot/workflow": () => [200, current] });
    await screen.findByText("Triage inbox");
    fireEvent.change(screen.getByLabelText("New node name"), { target: { value: "My draft node" } });
    fireEvent.click(screen.getByRole("button", { name: "Add node" }));

    current = workflowAt([v1, { ...v1, version: 2, nodes: [...v1.nodes, node("archive", "Archive")] }]);
    act(() =>
      FakeEventSource.last!.emit({
        id: 8,
        type: "WORKFLOW_VERSION_CREATED",
        tenant_id: "t1",
        agent_id: "mail-bot",
        run_id: null,
        timestamp: "2026-01-01T00:01:00Z",
        message: "workflow agent-wf-mail-bot is now at version 2",
        payload: { workflowId: "agent-wf-mail-bot", version: 2, note: null },
      }),
    );
    expect(await screen.findByText(/Version 2 arrived while you were editing/)).toBeInTheDocument();
    expect(screen.getByText("My draft node")).toBeInTheDocument();
    expect(screen.queryByText("Archive")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Load version 2 (drop my changes)" }));
    expect(await screen.findByText("Archive")).toBeInTheDocument();
    expect(screen.queryByText("My draft node")).toBeNull();
    expect(screen.getByTestId("workflow-dirty")).toHaveTextContent("No unsaved changes");
  });

  it("restores an old version as a new version", async () => {
    const v2: Version = { ...v1, version: 2, note: null, nodes: [v1.nodes[0]], edges: [] };
    renderPage("operator", {
      "GET /agents/mail-bot/workflow": [200, workflowAt([v1, v2])],
      "POST /workflow": (body) => [
        201,
        { ...workflowAt([v1, v2, { ...v1, version: 3 }]), versions: null, ...(body as object) },
      ],
    });
    await screen.findByText("Triage inbox");
    expect(screen.queryByText("Reply to mail")).toBeNull();
    const item = screen.getByTestId("workflow-version-1");
    fireEvent.click(within(item).getByRole("button", { name: "View" }));
    expect(await screen.findByText("Viewing version 1 (read-only).")).toBeInTheDocument();
    expect(within(screen.getByTestId("workflow-graph")).getByText("Reply to mail")).toBeInTheDocument();
    fireEvent.click(within(item).getByRole("button", { name: "Restore" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")!.body).toMatchObject({
      note: "restore of v1",
      nodes: v1.nodes,
      edges: v1.edges,
    });
    await waitFor(() => expect(screen.queryByText("Viewing version 1 (read-only).")).toBeNull());
  });
});
