import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useRouterMetrics } from "../queries";
import { formatCount, formatRate, formatUsd } from "../usage";

function MetricCard({
  testId,
  label,
  value,
  detail,
}: {
  testId: string;
  label: string;
  value: string;
  detail?: string;
}) {
  const labelId = `${testId}-label`;
  return (
    <div className="ra-metric-card" role="group" aria-labelledby={labelId} data-testid={testId}>
      <span id={labelId} className="ra-metric-label">
        {label}
      </span>
      <strong className="ra-metric-value">{value}</strong>
      {detail && <span className="muted small">{detail}</span>}
    </div>
  );
}

/** The window of GET /router/metrics (`WINDOW_DAYS` in talkative/llm_router/metrics.py). */
const METRICS_WINDOW_DAYS = 90;

/** Requests, tokens, cost and error rate over the backend's metrics window, and per model. */
export function MetricCards() {
  const metrics = useRouterMetrics();
  const totals = metrics.data?.totals;
  const perModel = metrics.data?.per_model ?? [];

  return (
    <Panel
      title="Router metrics"
      id="router-metrics"
      className="ra-area-metrics"
      actions={<span className="muted small">Totals of the last {METRICS_WINDOW_DAYS} days (UTC)</span>}
    >
      <QueryState
        isPending={metrics.isPending}
        error={metrics.error}
        onRetry={() => void metrics.refetch()}
        loading="Loading router metrics…"
      >
        <div className="ra-metric-cards">
          <MetricCard
            testId="metric-requests"
            label="Requests"
            value={formatCount(totals?.requests ?? 0)}
            detail={`${formatCount(totals?.errors ?? 0)} failed`}
          />
          <MetricCard
            testId="metric-tokens"
            label="Tokens"
            value={formatCount(totals?.tokens ?? 0)}
            detail={`${formatCount(totals?.prompt_tokens ?? 0)} in · ${formatCount(totals?.completion_tokens ?? 0)} out`}
          />
          <MetricCard testId="metric-cost" label="Cost (USD)" value={formatUsd(totals?.cost ?? 0)} />
          <MetricCard
            testId="metric-error-rate"
            label="Error rate"
            value={formatRate(totals?.error_rate ?? 0)}
            detail={`${formatCount(totals?.errors ?? 0)} of ${formatCount(totals?.requests ?? 0)} calls`}
          />
        </div>
        {perModel.length === 0 ? (
          <p className="muted">No model calls in the last {METRICS_WINDOW_DAYS} days.</p>
        ) : (
          <div className="ra-table-scroll">
            <table className="ra-table ra-model-table" data-testid="model-metrics" aria-label="Metrics per model">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col" className="ra-num">
                    Requests
                  </th>
                  <th scope="col" className="ra-num">
                    Tokens
                  </th>
                  <th scope="col" className="ra-num">
                    Cost
                  </th>
                  <th scope="col" className="ra-num">
                    Error rate
                  </th>
                </tr>
              </thead>
              <tbody>
                {perModel.map((m) => (
                  <tr key={m.model}>
                    <td>
                      <code>{m.model}</code>
                    </td>
                    <td className="ra-num">{formatCount(m.requests ?? 0)}</td>
                    <td className="ra-num">{formatCount(m.tokens ?? 0)}</td>
                    <td className="ra-num">{formatUsd(m.cost ?? 0)}</td>
                    <td className="ra-num">{formatRate(m.error_rate ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </Panel>
  );
}
