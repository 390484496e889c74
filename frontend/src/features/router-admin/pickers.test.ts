import { describe, expect, it } from "vitest";
import { agentChoices, tenantChoices, withCurrent } from "./pickers";

const agents = [
  { id: "mailer", tenant_id: "tenant-b", name: "Mailer" },
  { id: "clerk", tenant_id: "tenant-a", name: "clerk" },
  { id: "billing", tenant_id: "tenant-a", name: "Billing bot" },
];

describe("tenantChoices", () => {
  it("merges the sources, drops empties and duplicates, sorts", () => {
    expect(tenantChoices(["tenant-b", ""], ["tenant-a", "tenant-b"], [])).toEqual(["tenant-a", "tenant-b"]);
    expect(tenantChoices()).toEqual([]);
  });
});

describe("agentChoices", () => {
  it("lists the chosen tenant's agents by id, with their name when it differs", () => {
    expect(agentChoices(agents, "tenant-a", "")).toEqual([
      { value: "billing", label: "billing (Billing bot)" },
      { value: "clerk", label: "clerk" },
    ]);
  });
  it("lists every tenant's agents with their tenant while none is chosen", () => {
    expect(agentChoices(agents, "", "").map((c) => c.label)).toEqual([
      "billing (Billing bot) · tenant-a",
      "clerk · tenant-a",
      "mailer (Mailer) · tenant-b",
    ]);
  });
  it("keeps a saved id that names no agent, first and marked", () => {
    expect(agentChoices(agents, "tenant-b", "gone")).toEqual([
      { value: "gone", label: "gone (no such agent)" },
      { value: "mailer", label: "mailer (Mailer)" },
    ]);
    expect(agentChoices(agents, "tenant-b", "mailer")).toHaveLength(1);
  });
});

describe("withCurrent", () => {
  it("keeps the current value as a choice", () => {
    expect(withCurrent(["a"], "z")).toEqual([
      { value: "z", label: "z (unknown)" },
      { value: "a", label: "a" },
    ]);
    expect(withCurrent(["a"], "a")).toEqual([{ value: "a", label: "a" }]);
  });
});
