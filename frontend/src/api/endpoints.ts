import type { operations, paths } from "./schema";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Operation id → method and path, for the operations the UI calls. Operation ids are the
 * backend's stable contract (see /openapi.json); the types of each call come from
 * `operations[id]` in the generated schema.d.ts.
 */
export const endpoints = {
  getCurrentPrincipal: ["GET", "/auth/me"],
  listAgents: ["GET", "/agents"],
  createAgent: ["POST", "/agents"],
  getAgent: ["GET", "/agents/{agent_id}"],
  updateAgent: ["PATCH", "/agents/{agent_id}"],
  deleteAgent: ["DELETE", "/agents/{agent_id}"],
  listAgentFiles: ["GET", "/agents/{agent_id}/files"],
  startAgent: ["POST", "/agents/{agent_id}/start"],
  stopAgent: ["POST", "/agents/{agent_id}/stop"],
  getAgentEvents: ["GET", "/agents/{agent_id}/events"],
  getEventHistory: ["GET", "/events/history"],
  getAgentSkills: ["GET", "/agents/{agent_id}/skills"],
  attachSkill: ["POST", "/agents/{agent_id}/skills/attach"],
  sendMessage: ["POST", "/agents/{agent_id}/message"],
  getAgentWorkflow: ["GET", "/agents/{agent_id}/workflow"],
  listWorkflows: ["GET", "/workflows"],
  getWorkflow: ["GET", "/workflow/{workflow_id}"],
  saveWorkflow: ["POST", "/workflow"],
  addNode: ["POST", "/node"],
  updateNode: ["PATCH", "/node/{node_id}"],
  listSkills: ["GET", "/skills"],
  listApprovals: ["GET", "/approvals"],
  getApproval: ["GET", "/approvals/{approval_id}"],
  decideApproval: ["POST", "/approvals/{approval_id}/decision"],
  listRuns: ["GET", "/orchestrator/runs"],
  getRun: ["GET", "/orchestrator/runs/{run_id}"],
  getRunEvents: ["GET", "/orchestrator/runs/{run_id}/events"],
  controlRun: ["POST", "/orchestrator/runs/{run_id}/{action}"],
  listTenants: ["GET", "/fleet/tenants"],
  listClouds: ["GET", "/fleet/clouds"],
  listNodes: ["GET", "/fleet/nodes"],
  listFleetAgents: ["GET", "/fleet/agents"],
  provisionFleetAgent: ["POST", "/fleet/agents/{agent_id}/provision"],
  getRouterMetrics: ["GET", "/router/metrics"],
  getRouterUsage: ["GET", "/router/admin/usage"],
  getRouterRules: ["GET", "/router/admin/rules"],
  putRouterRules: ["PUT", "/router/admin/rules"],
  getRouterBudgets: ["GET", "/router/admin/budgets"],
  putRouterBudgets: ["PUT", "/router/admin/budgets"],
} as const satisfies { [K in keyof operations]?: readonly [Method, keyof paths] };

export type OperationId = keyof typeof endpoints;
