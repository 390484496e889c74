import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api";
import type { Schemas } from "../../api/client";
import { fileUrl, type WorkspaceFile } from "./files";

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

export const workspaceKeys = {
  files: (id: string) => ["agents", id, "files"] as const,
};

export function useAgent(agentId: string) {
  return useQuery({
    queryKey: [...agentKeys.all, agentId] as const,
    queryFn: ({ signal }) => api.call("getAgent", { path: { agent_id: agentId }, signal }),
  });
}

export function useUpdateAgent(agentId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas["AgentUpdate"]) => api.call("updateAgent", { path: { agent_id: agentId }, body }),
    onSuccess: (agent) => {
      qc.setQueryData([...agentKeys.all, agentId], agent);
      return qc.invalidateQueries({ queryKey: agentKeys.all, exact: true });
    },
  });
}

export function useDeleteAgent() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (agentId: string) => api.call("deleteAgent", { path: { agent_id: agentId } }),
    onSuccess: (_data, agentId) => {
      qc.removeQueries({ queryKey: [...agentKeys.all, agentId] });
      return qc.invalidateQueries({ queryKey: agentKeys.all, exact: true });
    },
  });
}

export function useAgentFiles(agentId: string) {
  return useQuery({
    queryKey: workspaceKeys.files(agentId),
    queryFn: ({ signal }) => api.call("listAgentFiles", { path: { agent_id: agentId }, signal }),
  });
}

export function useUploadInput(agentId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (file: File) =>
      api.request<Schemas["WorkspaceFile"]>("PUT", fileUrl(agentId, "inputs", file.name), { raw: file }),
    onSuccess: () => qc.invalidateQueries({ queryKey: workspaceKeys.files(agentId) }),
  });
}

/** Fetches a workspace file's bytes (with the session's token; a plain link could not carry it). */
export function fetchFile(agentId: string, file: WorkspaceFile): Promise<Blob> {
  return api.blob(fileUrl(agentId, file.folder, file.path));
}
