import type { FleetAgent, FleetNode, Placement } from "./queries";

/** The nodes an agent may be provisioned to: its own tenant's (a platform admin sees them all). */
export function nodesFor(agent: FleetAgent, nodes: readonly FleetNode[]): FleetNode[] {
  return nodes.filter((node) => node.tenant_id === agent.tenant_id);
}

/** One line about a placement: where the agent is and how its last provisioning went. */
export function describePlacement(placement: Placement, nodes: readonly FleetNode[]): string {
  const node = nodes.find((n) => n.id === placement.node_id && n.tenant_id === placement.tenant_id);
  const where = node ? `${node.name} (${node.mode})` : placement.node_id;
  if (placement.status === "failed") return `${where}: failed — ${placement.error ?? "no detail recorded"}`;
  const skills = placement.skills.length ? placement.skills.join(", ") : "no skills";
  return `${where}: provisioned at ${placement.path ?? "?"} with ${skills}`;
}
