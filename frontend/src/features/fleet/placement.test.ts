import { describe, expect, it } from "vitest";
import { describePlacement, nodesFor } from "./placement";
import type { FleetAgent, FleetNode, Placement } from "./queries";

const node = (id: string, tenant: string, mode: "local" | "ssh" = "local"): FleetNode => ({
  id,
  tenant_id: tenant,
  cloud_id: null,
  name: `Node ${id}`,
  mode,
  ssh_host: null,
  ssh_user: null,
  ssh_port: null,
  base_path: null,
  status: "new",
  last_error: null,
  last_seen_at: null,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
});
const agent: FleetAgent = {
  id: "bot",
  tenant_id: "t1",
  cloud_id: null,
  name: "Bot",
  skills: [],
  placements: [],
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};
const placement = (over: Partial<Placement>): Placement => ({
  agent_id: "bot",
  node_id: "n1",
  tenant_id: "t1",
  status: "provisioned",
  skills: ["echo"],
  path: "/srv/bot",
  error: null,
  provisioned_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  ...over,
});

describe("nodesFor", () => {
  it("offers only the agent's tenant's nodes", () => {
    const nodes = [node("n1", "t1"), node("n2", "t2"), node("n3", "t1")];
    expect(nodesFor(agent, nodes).map((n) => n.id)).toEqual(["n1", "n3"]);
  });
});

describe("describePlacement", () => {
  const nodes = [node("n1", "t1", "ssh"), node("n1", "t2")];
  it("says where and with what", () => {
    expect(describePlacement(placement({}), nodes)).toBe("Node n1 (ssh): provisioned at /srv/bot with echo");
  });
  it("says why it failed", () => {
    const failed = placement({ status: "failed", error: "host key unknown", path: null });
    expect(describePlacement(failed, nodes)).toBe("Node n1 (ssh): failed — host key unknown");
  });
  it("falls back to the node id for a node it does not know", () => {
    expect(describePlacement(placement({ node_id: "gone", skills: [] }), nodes)).toBe(
      "gone: provisioned at /srv/bot with no skills",
    );
  });
});
