import { Panel } from "../../../components/ui/Panel";
import { QueryState } from "../../../components/ui/QueryState";
import { useRouterBudgets, useRouterRules } from "../queries";
import { barWidth, levelLabel, spendBars, uncappedSpend, type CapBar, type CapScope } from "../spend";
import { formatUsd } from "../usage";

const SCOPES: { scope: CapScope; title: string }[] = [
  { scope: "global", title: "Platform" },
  { scope: "tenant", title: "Tenants" },
  { scope: "agent", title: "Agents" },
];

export function SpendBar({ bar }: { bar: CapBar }) {
  const cap = bar.window === "day" ? "daily cap" : "monthly cap";
  const label = `${bar.name} ${cap}`;
  return (
    <li className={`ra-spend ra-spend-${bar.level}`} data-testid="spend-bar" data-level={bar.level}>
      <div className="row spread">
        <span>
          <strong>{bar.name}</strong> <span className="muted">· {cap}</span>
        </span>
        <span className="ra-spend-percent">
          {bar.percent} <span className="ra-spend-level">{levelLabel(bar.level, bar.spent, bar.cap)}</span>
        </span>
      </div>
      <div
        className="ra-spend-track"
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={bar.cap}
        aria-valuenow={Math.min(bar.spent, bar.cap)}
        aria-valuetext={bar.summary}
      >
        <div className="ra-spend-fill" style={{ width: `${barWidth(bar.ratio)}%` }} />
      </div>
      <span className="muted small">{bar.summary}</span>
    </li>
  );
}

/** The routes whose provider is not configured: their calls are answered locally and cost nothing. */
function FallbackNotice({ models }: { models: string[] }) {
  if (models.length === 0) return null;
  return (
    <p className="notice small" data-testid="spend-falls-back">
      {models.map((m, i) => (
        <span key={m}>
          {i > 0 && ", "}
          <code>{m}</code>
        </span>
      ))}{" "}
      {models.length === 1 ? "falls" : "fall"} back to local: its provider is not configured on this server, so those
      calls cost nothing.
    </p>
  );
}

/** Today's and this month's spend (UTC) against every cap, from GET /router/admin/budgets. */
export function SpendPanel() {
  const budgets = useRouterBudgets();
  const rules = useRouterRules();
  const bars = budgets.data ? spendBars(budgets.data) : [];
  const uncapped = budgets.data ? uncappedSpend(budgets.data) : [];

  return (
    <Panel title="Spend against caps" id="router-spend" className="ra-area-spend">
      <FallbackNotice models={rules.data?.falls_back ?? []} />
      <QueryState
        isPending={budgets.isPending}
        error={budgets.error}
        onRetry={() => void budgets.refetch()}
        loading="Loading spend…"
      >
        {bars.length === 0 && <p className="muted">No spending caps are set.</p>}
        {SCOPES.map(({ scope, title }) => {
          const group = bars.filter((b) => b.scope === scope);
          if (group.length === 0) return null;
          return (
            <div key={scope} className="stack compact">
              <h3 className="ra-subhead">{title}</h3>
              <ul className="plain ra-spend-list" aria-label={`${title} spend`}>
                {group.map((bar) => (
                  <SpendBar key={bar.id} bar={bar} />
                ))}
              </ul>
            </div>
          );
        })}
        {uncapped.length > 0 && (
          <div className="stack compact">
            <h3 className="ra-subhead">Without a cap</h3>
            <ul className="plain ra-uncapped">
              {uncapped.map((u) => (
                <li key={`${u.scope}:${u.name}`} className="small">
                  <strong>{u.name}</strong> <span className="muted">({u.scope})</span>: {formatUsd(u.day)} today
                  {u.month !== null && <>, {formatUsd(u.month)} this month</>}
                </li>
              ))}
            </ul>
          </div>
        )}
        <p className="muted small">Today and this month are UTC; calls in flight count at their most expensive.</p>
      </QueryState>
    </Panel>
  );
}
