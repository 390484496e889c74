import type { Json } from "../envelope";
import { invalidEntries, triageGroups } from "../skills";

/** mail-triage: one table of the emails, grouped by category, each group headed by its count. */
export function MailTriageResult({ data }: { data: Json }) {
  const groups = triageGroups(data);
  const invalid = invalidEntries(data);
  return (
    <div className="result-mail-triage">
      <ul className="result-counts" aria-label="Emails per category">
        {groups.map((g) => (
          <li key={g.category}>
            <span className={`badge badge-cat-${g.category}`}>{g.category}</span> {g.count}
          </li>
        ))}
      </ul>
      <div className="result-scroll">
        <table className="ra-table result-table" aria-label="Emails by category">
          <thead>
            <tr>
              <th>Subject</th>
              <th>From</th>
              <th>Suggested action</th>
              <th className="ra-num">Confidence</th>
            </tr>
          </thead>
          {groups
            .filter((g) => g.emails.length > 0)
            .map((g) => (
              <tbody key={g.category} data-category={g.category}>
                <tr className="result-group">
                  <th colSpan={4} scope="colgroup">
                    {g.category} ({g.emails.length})
                  </th>
                </tr>
                {g.emails.map((e, i) => (
                  <tr key={`${e.id}-${i}`}>
                    <td>{e.subject}</td>
                    <td>{e.from}</td>
                    <td>{e.action}</td>
                    <td className="ra-num">{e.confidence === null ? "" : `${Math.round(e.confidence * 100)}%`}</td>
                  </tr>
                ))}
              </tbody>
            ))}
        </table>
      </div>
      {invalid.length > 0 && (
        <p className="muted small">
          {invalid.length} {invalid.length === 1 ? "entry was" : "entries were"} not a usable email:{" "}
          {invalid.map((x) => `#${x.index} ${x.reason}`).join("; ")}
        </p>
      )}
    </div>
  );
}
