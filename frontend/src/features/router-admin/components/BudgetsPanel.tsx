import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useSession } from "../../auth/session";
import { useRouterBudgets } from "../queries";
import { BudgetsEditor } from "./budgets/BudgetsEditor";
import { BudgetsView } from "./budgets/BudgetsView";

/**
 * The caps: an editor for admins, read-only for everyone else. A tenant's admin sees and saves only
 * its own tenant's caps (the server keeps every other tenant's as they are) and cannot change the
 * platform-wide cap.
 */
export function BudgetsPanel() {
  const budgets = useRouterBudgets();
  const { principal, can } = useSession();
  const canEdit = can("router_admin");
  return (
    <Panel title="Budgets" id="router-budgets" className="ra-area-budgets">
      <QueryState
        isPending={budgets.isPending}
        error={budgets.error}
        onRetry={() => void budgets.refetch()}
        loading="Loading budgets…"
      >
        {budgets.data &&
          (canEdit ? (
            <BudgetsEditor budgets={budgets.data} platform={principal.platform_admin} />
          ) : (
            <>
              <p className="muted small">Only admins can change the budgets.</p>
              <BudgetsView budgets={budgets.data} />
            </>
          ))}
      </QueryState>
    </Panel>
  );
}
