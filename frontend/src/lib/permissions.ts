import type { Schemas } from "../api/client";

export type Role = Schemas["PrincipalRead"]["role"];

/** Mirrors the backend's policy table (talkative/auth/policy.py): which role may do what. */
export type Permission = "read" | "operate" | "decide_approvals" | "router_admin" | "fleet";

const OPERATORS: readonly Role[] = ["admin", "operator"];
const POLICY: Record<Permission, readonly Role[]> = {
  read: ["admin", "operator", "viewer"],
  operate: OPERATORS,
  decide_approvals: OPERATORS,
  router_admin: ["admin"],
  fleet: ["admin"],
};

export function allows(role: Role | undefined, permission: Permission): boolean {
  return role !== undefined && POLICY[permission].includes(role);
}
