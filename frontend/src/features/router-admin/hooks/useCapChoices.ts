import { useMemo } from "react";
import { useAgents } from "../../agents/queries";
import { useSession } from "../../auth/session";
import { agentCapEntries } from "../forms";
import { useTenants, type BudgetsRead } from "../queries";
import { tenantChoices } from "../pickers";

/**
 * What the budgets editor's pickers offer: tenants (a platform admin's: registered, owning an
 * agent or already capped; a tenant admin's own) and the agents of `GET /agents`.
 */
export function useCapChoices(budgets: BudgetsRead) {
  const { principal } = useSession();
  const agents = useAgents();
  const tenants = useTenants(principal.platform_admin);
  const agentList = useMemo(() => agents.data ?? [], [agents.data]);
  const tenantList = useMemo(() => {
    if (!principal.platform_admin) return principal.tenant_id ? [principal.tenant_id] : [];
    return tenantChoices(
      tenants.data ?? [],
      agentList.map((a) => a.tenant_id),
      Object.keys(budgets.tenants),
      agentCapEntries(budgets.agents).map(([tenant]) => tenant),
    );
  }, [principal, tenants.data, agentList, budgets.tenants, budgets.agents]);
  return { tenants: tenantList, agents: agentList, platform: principal.platform_admin };
}

export type CapChoices = ReturnType<typeof useCapChoices>;
