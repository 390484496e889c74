import { lazy, Suspense, useMemo, useState } from "react";
import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useSession } from "../../auth/session";
import { useRouterMetrics, useRouterUsage } from "../queries";
import {
  dateRangeError,
  defaultFilters,
  distinct,
  filterUsage,
  options,
  rangeLabel,
  USAGE_LIMIT,
  usageQuery,
  utcToday,
  type UsageFilters,
} from "../usage";
import { UsageFilterBar, type FilterChoices } from "./UsageFilterBar";
import { UsageTable } from "./UsageTable";

// The charting library is big: it loads with the page's usage, not with the whole app.
const UsageCharts = lazy(() => import("./UsageCharts").then((m) => ({ default: m.UsageCharts })));

/**
 * Usage over time (charts) and call by call (table), under one set of filters. Tenant, agent and
 * dates are filtered by the server; model and status here (the usage endpoint has no parameter
 * for them).
 */
export function UsagePanel() {
  const { principal } = useSession();
  const [filters, setFilters] = useState<UsageFilters>(() => defaultFilters());
  const rangeError = dateRangeError(filters.from, filters.to);
  const { tenant, agent, from, to } = filters;
  const query = useMemo(
    () => usageQuery({ tenant, agent, from, to, model: "", status: "" }),
    [tenant, agent, from, to],
  );
  const usage = useRouterUsage(query, rangeError === null);
  const metrics = useRouterMetrics();

  const rows = useMemo(() => usage.data ?? [], [usage.data]);
  const shown = useMemo(
    () => filterUsage(rows, { model: filters.model, status: filters.status }),
    [rows, filters.model, filters.status],
  );
  const choices = useMemo<FilterChoices>(() => {
    const m = metrics.data;
    return {
      tenants: principal.platform_admin
        ? options(
            filters.tenant,
            m?.per_tenant.map((t) => t.key) ?? [],
            distinct(rows, (r) => r.tenant_id),
          )
        : null,
      agents: options(
        filters.agent,
        m?.per_agent.map((a) => a.key).filter((k) => k !== "-") ?? [],
        distinct(rows, (r) => r.agent_id),
      ),
      models: options(
        filters.model,
        m?.per_model.map((x) => x.model) ?? [],
        distinct(rows, (r) => r.model),
      ),
    };
  }, [metrics.data, rows, principal.platform_admin, filters.tenant, filters.agent, filters.model]);

  const updating = usage.isFetching && usage.isPlaceholderData;
  return (
    <Panel
      title="Usage"
      id="router-usage"
      className="ra-area-usage"
      actions={
        <span className="muted small" role="status" data-testid="usage-range">
          {updating ? "Updating…" : rangeLabel(filters.from, filters.to)}
        </span>
      }
    >
      <UsageFilterBar
        filters={filters}
        choices={choices}
        onChange={setFilters}
        onReset={() => setFilters(defaultFilters())}
      />
      {rangeError ? (
        <p className="error" role="alert">
          {rangeError}
        </p>
      ) : (
        <QueryState
          isPending={usage.isPending}
          error={usage.error}
          onRetry={() => void usage.refetch()}
          loading="Loading usage…"
        >
          {rows.length >= USAGE_LIMIT && (
            <p className="notice small">
              Showing the newest {USAGE_LIMIT} calls in this range only; narrow the dates or filters to see older ones.
            </p>
          )}
          <Suspense
            fallback={
              <p className="muted" role="status">
                Loading charts…
              </p>
            }
          >
            <UsageCharts rows={shown} from={filters.from} to={filters.to || utcToday()} />
          </Suspense>
          <UsageTable key={JSON.stringify(filters)} rows={shown} />
        </QueryState>
      )}
    </Panel>
  );
}
