import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useCan, useSession } from "../../auth/session";
import { useRouterRules } from "../queries";
import { RulesEditor } from "./rules/RulesEditor";
import { RulesView } from "./rules/RulesView";

/** The routing rules: an editor for platform admins (they route every tenant's calls), read-only otherwise. */
export function RulesPanel() {
  const rules = useRouterRules();
  const { principal } = useSession();
  const isRouterAdmin = useCan("router_admin");
  const canEdit = isRouterAdmin && principal.platform_admin;
  return (
    <Panel title="Routing rules" id="router-rules" className="ra-area-rules">
      <QueryState
        isPending={rules.isPending}
        error={rules.error}
        onRetry={() => void rules.refetch()}
        loading="Loading rules…"
      >
        {rules.data &&
          (canEdit ? (
            <RulesEditor rules={rules.data} />
          ) : (
            <>
              <p className="muted small">
                {isRouterAdmin
                  ? "Routing rules cover every tenant, so only a platform admin (a token without a tenant) can change them."
                  : "Only admins can change the routing rules."}
              </p>
              <RulesView rules={rules.data} />
            </>
          ))}
      </QueryState>
    </Panel>
  );
}
