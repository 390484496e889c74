import { isObject } from "../envelope";
import { cellText, label, shapeOf, tableOf } from "../table";

const MAX_DEPTH = 3;

/** Any skill's data: lists of objects as tables, objects as key/value lists, scalars as text. */
export function GenericResult({ value, depth = 0, name }: { value: unknown; depth?: number; name?: string }) {
  const shape = shapeOf(value);
  if (shape === "scalar") return <span className="result-scalar">{cellText(value) || "—"}</span>;
  if (depth >= MAX_DEPTH) return <code className="small">{cellText(value)}</code>;
  if (shape === "table") {
    const table = tableOf(value)!;
    return (
      <div className="result-scroll">
        <table className="ra-table result-table" aria-label={name ? label(name) : "Result"}>
          <thead>
            <tr>
              {table.columns.map((c) => (
                <th key={c}>{label(c)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row, i) => (
              <tr key={i}>
                {table.columns.map((c) => (
                  <td key={c}>{cellText(row[c])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  if (shape === "list") {
    const items = value as unknown[];
    if (items.length === 0) return <span className="muted">none</span>;
    return (
      <ul className="result-list">
        {items.map((item, i) => (
          <li key={i}>
            <GenericResult value={item} depth={depth + 1} />
          </li>
        ))}
      </ul>
    );
  }
  const entries = isObject(value) ? Object.entries(value) : [];
  if (entries.length === 0) return <span className="muted">empty</span>;
  return (
    <dl className="result-kv">
      {entries.map(([key, item]) => (
        <div key={key}>
          <dt>{label(key)}</dt>
          <dd>
            <GenericResult value={item} depth={depth + 1} name={key} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
