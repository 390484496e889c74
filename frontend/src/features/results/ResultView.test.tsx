import { fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { respond } from "../../test/fakeApi";
import { Providers } from "../../app/providers";
import { ResultView } from "./ResultView";

const payload = {
  ok: true,
  skill: "mail-triage",
  artifacts: ["outputs/mail-triage.json"],
  skillReport: {
    ok: true,
    generatedAt: "2026-12-03T00:00:00Z",
    skillName: "mail-triage",
    data: {
      emails: [
        {
          id: "m1",
          from: "billing@x",
          subject: "Invoice 1",
          date: "",
          category: "billing",
          confidence: 0.9,
          suggestedAction: "forward to accounting",
        },
        {
          id: "m2",
          from: "win@y",
          subject: "You won",
          date: "",
          category: "spam",
          confidence: 0.8,
          suggestedAction: "delete",
        },
      ],
      counts: { billing: 1, work: 0, personal: 0, spam: 1 },
      invalid: [],
    },
  },
};

function show(skill: string, result: unknown, runId?: string) {
  return render(
    <Providers>
      <ResultView skill={skill} result={result} runId={runId} />
    </Providers>,
  );
}

describe("ResultView", () => {
  it("shows a triage as a table by category, its files, and the raw JSON on demand", () => {
    show("mail-triage", payload, "run_1");
    const table = screen.getByRole("table", { name: "Emails by category" });
    expect(within(table).getByText("billing (1)")).toBeInTheDocument();
    expect(within(table).getByText("Invoice 1")).toBeInTheDocument();
    expect(within(table).getByText("90%")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Download outputs/mail-triage.json" })).toBeInTheDocument();
    expect(screen.queryByLabelText("Raw JSON")).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: "Raw JSON" }));
    expect(screen.getByLabelText("Raw JSON")).toHaveTextContent('"skillName": "mail-triage"');
  });

  it("puts the summary on top and renders any other skill generically", () => {
    show("weather", { summary: "weather finished: 2 cities", cities: [{ name: "Oslo", temp: -3 }], ok: true });
    expect(screen.getByText("weather finished: 2 cities")).toBeInTheDocument();
    const table = screen.getByRole("table", { name: "Cities" });
    expect(within(table).getByText("Oslo")).toBeInTheDocument();
    expect(within(table).getByText("-3")).toBeInTheDocument();
  });

  it("says a failed skill failed, in words", () => {
    show("mail-triage", { ok: false, skillName: "mail-triage", data: null, error: "inbox file not found" });
    expect(screen.getByText("mail-triage failed: inbox file not found")).toBeInTheDocument();
  });

  it("shows bookkeeping totals and per-category sums", () => {
    const data = { income: 100, expense: 40, net: 60, byCategory: { sales: 100, rent: -40 } };
    show("monthly-bookkeeping", { ok: true, skillName: "monthly-bookkeeping", data });
    expect(screen.getByLabelText("Totals")).toHaveTextContent("Net60.00");
    const table = screen.getByRole("table", { name: "Per category" });
    expect(within(table).getByText("-40.00")).toBeInTheDocument();
    expect(within(table).getAllByText("60.00")).toHaveLength(1);
  });
});

describe("ResultView of a run's step", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("finds the step's report in the run's history and renders it", async () => {
    const run = {
      run_id: "run_1",
      agent_id: "mailer",
      steps: [
        {
          type: "event",
          name: "TOOL_RUN_FINISHED",
          at: "x",
          id: "1",
          payload: { ...payload, metrics: { duration_ms: 7 } },
        },
      ],
    };
    vi.stubGlobal("fetch", respond({ "GET /orchestrator/runs/run_1": [200, run] }));
    const step = {
      ok: true,
      exit_code: 0,
      artifacts: ["outputs/mail-triage.json"],
      duration_ms: 7,
      summary: "mail-triage finished: 2 emails",
    };
    show("mail-triage", step, "run_1");
    expect(screen.getByText("mail-triage finished: 2 emails")).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Emails by category" });
    expect(within(table).getByText("spam (1)")).toBeInTheDocument();
  });

  it("says when the report cannot be loaded", async () => {
    vi.stubGlobal("fetch", respond({}));
    show("mail-triage", { ok: true, exit_code: 0, duration_ms: 7 }, "run_gone");
    expect(await screen.findByText(/The report could not be loaded: no route/)).toBeInTheDocument();
  });
});
