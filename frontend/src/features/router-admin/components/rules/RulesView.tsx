import type { RulesRead } from "../../queries";

/** A model's provider cannot be called here: local answers instead (`falls_back` from the server). */
export function FallbackBadge({ model, rules }: { model: string; rules: RulesRead }) {
  if (!rules.falls_back.includes(model)) return null;
  return (
    <span
      className="badge badge-pending"
      data-testid="falls-back"
      title="Its provider is not configured on this server"
    >
      falls back to local
    </span>
  );
}

export function ProvidersNote({ providers }: { providers: Record<string, boolean> }) {
  const names = Object.keys(providers).sort();
  if (names.length === 0) return null;
  return (
    <p className="muted small">
      Providers:{" "}
      {names.map((name, i) => (
        <span key={name}>
          {i > 0 && ", "}
          <code>{name}</code> {providers[name] ? "(ready)" : "(not configured: its calls fall back to local)"}
        </span>
      ))}
    </p>
  );
}

function RoutesTable({ rules }: { rules: RulesRead }) {
  if (rules.routes.length === 0) return <p className="muted">No routes: every message goes to the default model.</p>;
  return (
    <div className="ra-table-scroll">
      <table className="ra-table" aria-label="Routes">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Pattern</th>
            <th scope="col">Model</th>
            <th scope="col" className="ra-num">
              Max tokens
            </th>
          </tr>
        </thead>
        <tbody>
          {rules.routes.map((r, i) => (
            <tr key={i}>
              <td>{i + 1}</td>
              <td>
                <code>{String(r.match ?? "")}</code>
              </td>
              <td>
                <code>{String(r.model ?? "")}</code> <FallbackBadge model={String(r.model ?? "")} rules={rules} />
              </td>
              <td className="ra-num">{String(r.max_tokens ?? "")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PricesTable({ prices }: { prices: RulesRead["prices"] }) {
  const rows = Object.entries(prices);
  if (rows.length === 0) return <p className="muted">No prices: every call costs nothing.</p>;
  return (
    <div className="ra-table-scroll">
      <table className="ra-table" aria-label="Prices">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" className="ra-num">
              Input
            </th>
            <th scope="col" className="ra-num">
              Output
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([model, p]) => (
            <tr key={model}>
              <td>
                <code>{model}</code>
              </td>
              <td className="ra-num">{p.input_per_mtok ?? "—"}</td>
              <td className="ra-num">{p.output_per_mtok ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The rules, read-only. */
export function RulesView({ rules }: { rules: RulesRead }) {
  return (
    <div className="stack">
      <p>
        Default model: <code>{rules.default_model}</code> <FallbackBadge model={rules.default_model} rules={rules} />
      </p>
      <div className="stack compact">
        <h3 className="ra-subhead">Routes (first match wins)</h3>
        <RoutesTable rules={rules} />
      </div>
      <div className="stack compact">
        <h3 className="ra-subhead">Prices (USD per million tokens)</h3>
        <PricesTable prices={rules.prices} />
      </div>
      <ProvidersNote providers={rules.providers} />
    </div>
  );
}
