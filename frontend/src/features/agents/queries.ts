import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";

export type Agent = Schemas["AgentRead"];
export type Skill = Schemas["SkillRead"];

export const agentKeys = {
  all: ["agents"] as const,
  skills: ["skills"] as const,
  agentSkills: (id: string) => ["agents", id, "skills"] as const,
};

export function useAgents() {
  return useQuery({
    queryKey: agentKeys.all,
    queryFn: ({ signal }) => api.call("listAgents", { signal }),
    select: (page) => page.agents,
  });
}

/** The skill catalogue; each skill is also a template to create an agent from. */
export function useSkills() {
  return useQuery({
    queryKey: agentKeys.skills,
    queryFn: ({ signal }) => api.call("listSkills", { signal }),
    select: (page) => page.skills,
    staleTime: 5 * 60_000,
  });
}

export function useAgentSkills(agentId: string | null) {
  return useQuery({
    queryKey: agentKeys.agentSkills(agentId ?? ""),
    queryFn: ({ signal }) => api.call("getAgentSkills", { path: { agent_id: agentId ?? "" }, signal }),
    select: (page) => page.skills,
    enabled: !!agentId,
  });
}

export function useCreateAgent() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["AgentCreate"]) => api.call("createAgent", { body }),
    onSuccess: () => qc.invalidateQueries({ queryKey: agentKeys.all }),
  });
}

export function useStartStop() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ agentId, action }: { agentId: string; action: "start" | "stop" }) =>
      api.call(action === "start" ? "startAgent" : "stopAgent", { path: { agent_id: agentId } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: agentKeys.all }),
  });
}

export function useAttachSkill() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ agentId, skillName }: { agentId: string; skillName: string }) =>
      api.call("attachSkill", { path: { agent_id: agentId }, body: { skillName } }),
    onSuccess: (_data, { agentId }) => qc.invalidateQueries({ queryKey: agentKeys.agentSkills(agentId) }),
  });
}
