import { agentCapEntries } from "../../forms";
import type { BudgetsRead } from "../../queries";
import { formatUsd } from "../../usage";

function cap(value: unknown): string {
  return typeof value === "number" ? formatUsd(value) : "no cap";
}

export function BudgetsView({ budgets }: { budgets: BudgetsRead }) {
  const tenants = Object.entries(budgets.tenants);
  const agents = agentCapEntries(budgets.agents);
  return (
    <div className="stack">
      <p>
        Global daily cap: <strong>{cap(budgets.global_daily_cost_cap_usd)}</strong>
      </p>
      <div className="stack compact">
        <h3 className="ra-subhead">Tenants</h3>
        {tenants.length === 0 ? (
          <p className="muted">No tenant caps.</p>
        ) : (
          <div className="ra-table-scroll">
            <table className="ra-table" aria-label="Tenant caps">
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col" className="ra-num">
                    Daily cap
                  </th>
                  <th scope="col" className="ra-num">
                    Monthly cap
                  </th>
                </tr>
              </thead>
              <tbody>
                {tenants.map(([id, caps]) => (
                  <tr key={id}>
                    <td>{id}</td>
                    <td className="ra-num">{cap(caps.daily_cost_cap_usd)}</td>
                    <td className="ra-num">{cap(caps.monthly_cost_cap_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div className="stack compact">
        <h3 className="ra-subhead">Agents</h3>
        {agents.length === 0 ? (
          <p className="muted">No agent caps.</p>
        ) : (
          <div className="ra-table-scroll">
            <table className="ra-table" aria-label="Agent caps">
              <thead>
                <tr>
                  <th scope="col">Agent</th>
                  <th scope="col">Tenant</th>
                  <th scope="col" className="ra-num">
                    Daily cap
                  </th>
                  <th scope="col" className="ra-num">
                    Monthly cap
                  </th>
                </tr>
              </thead>
              <tbody>
                {agents.map(([tenant, id, caps]) => (
                  <tr key={`${tenant}/${id}`}>
                    <td>{id}</td>
                    <td>{tenant}</td>
                    <td className="ra-num">{cap(caps.daily_cost_cap_usd)}</td>
                    <td className="ra-num">{cap(caps.monthly_cost_cap_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}
