import { BudgetsPanel } from "./components/BudgetsPanel";
import { MetricCards } from "./components/MetricCards";
import { RulesPanel } from "./components/RulesPanel";
import { SpendPanel } from "./components/SpendPanel";
import { UsagePanel } from "./components/UsagePanel";

/** `/router-admin`: the LLM router's metrics, usage, spend per cap, rules, budgets (docs/product.md §8). */
export function RouterAdminPage() {
  return (
    <div className="router-admin">
      <h1 className="ra-title">Router Admin</h1>
      <MetricCards />
      <SpendPanel />
      <UsagePanel />
      <RulesPanel />
      <BudgetsPanel />
    </div>
  );
}
