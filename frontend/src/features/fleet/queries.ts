import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";

export type Tenant = Schemas["TenantRead"];
export type Cloud = Schemas["CloudRead"];
export type FleetNode = Schemas["NodeRead"];
export type FleetAgent = Schemas["FleetAgentRead"];
export type Placement = Schemas["PlacementRead"];

export const fleetKeys = {
  all: ["fleet"] as const,
  tenants: ["fleet", "tenants"] as const,
  clouds: ["fleet", "clouds"] as const,
  nodes: ["fleet", "nodes"] as const,
  agents: ["fleet", "agents"] as const,
};

export function useTenants() {
  return useQuery({
    queryKey: fleetKeys.tenants,
    queryFn: ({ signal }) => api.call("listTenants", { signal }),
    select: (page) => page.tenants,
  });
}

export function useClouds() {
  return useQuery({
    queryKey: fleetKeys.clouds,
    queryFn: ({ signal }) => api.call("listClouds", { signal }),
    select: (page) => page.clouds,
  });
}

export function useNodes() {
  return useQuery({
    queryKey: fleetKeys.nodes,
    queryFn: ({ signal }) => api.call("listNodes", { signal }),
    select: (page) => page.nodes,
  });
}

export function useFleetAgents() {
  return useQuery({
    queryKey: fleetKeys.agents,
    queryFn: ({ signal }) => api.call("listFleetAgents", { signal }),
    select: (page) => page.agents,
  });
}

/** Provisions; success or failure, the node's status and the agent's placements changed. */
export function useProvision() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ agent, nodeId }: { agent: FleetAgent; nodeId: string }) =>
      api.call("provisionFleetAgent", {
        path: { agent_id: agent.id },
        body: { node_id: nodeId, tenant_id: agent.tenant_id },
      }),
    onSettled: () => qc.invalidateQueries({ queryKey: fleetKeys.all }),
  });
}
