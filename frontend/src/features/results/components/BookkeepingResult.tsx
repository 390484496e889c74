import type { Json } from "../envelope";
import { bookkeeping, formatAmount } from "../skills";

/** monthly-bookkeeping: the totals, the sum per category and the months. */
export function BookkeepingResult({ data }: { data: Json }) {
  const view = bookkeeping(data);
  return (
    <div className="result-bookkeeping">
      <dl className="result-totals" aria-label="Totals">
        {view.totals.map((t) => (
          <div key={t.label}>
            <dt>{t.label}</dt>
            <dd className={t.amount < 0 ? "negative" : undefined}>{formatAmount(t.amount)}</dd>
          </div>
        ))}
      </dl>
      <p className="muted small">
        {view.transactions !== null && `${view.transactions} transactions`}
        {view.period && ` from ${view.period.from} to ${view.period.to}`}
      </p>
      {view.categories.length > 0 && (
        <div className="result-scroll">
          <table className="ra-table result-table" aria-label="Per category">
            <thead>
              <tr>
                <th>Category</th>
                <th className="ra-num">Amount</th>
              </tr>
            </thead>
            <tbody>
              {view.categories.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td>
                  <td className={`ra-num${c.amount < 0 ? " negative" : ""}`}>{formatAmount(c.amount)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th>All categories</th>
                <th className="ra-num">{formatAmount(view.categoriesTotal)}</th>
              </tr>
            </tfoot>
          </table>
        </div>
      )}
      {view.months.length > 0 && (
        <div className="result-scroll">
          <table className="ra-table result-table" aria-label="Per month">
            <thead>
              <tr>
                <th>Month</th>
                <th className="ra-num">Income</th>
                <th className="ra-num">Expense</th>
                <th className="ra-num">Net</th>
                <th className="ra-num">Transactions</th>
              </tr>
            </thead>
            <tbody>
              {view.months.map((m) => (
                <tr key={m.month}>
                  <td>{m.month}</td>
                  <td className="ra-num">{formatAmount(m.income)}</td>
                  <td className="ra-num">{formatAmount(m.expense)}</td>
                  <td className="ra-num">{formatAmount(m.net)}</td>
                  <td className="ra-num">{m.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {view.skipped.length > 0 && (
        <p className="muted small">
          {view.skipped.length} rows skipped (left out of the totals):{" "}
          {view.skipped.map((s) => `line ${s.line}: ${s.reason}`).join("; ")}
        </p>
      )}
    </div>
  );
}
