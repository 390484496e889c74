import { Link } from "react-router-dom";
import { decisionErrorText } from "../inbox";
import { useRefusedDecisions } from "../queries";

const SHOWN = 3;

/**
 * Decisions the server refused on requests this panel no longer lists (decided or cancelled
 * meanwhile): said in words until dismissed, never silently dropped with the request.
 */
export function RefusedDecisions({ listed }: { listed: ReadonlySet<string> }) {
  const refused = useRefusedDecisions().filter((r) => !listed.has(r.approvalId));
  if (refused.length === 0) return null;
  return (
    <ul className="plain">
      {refused.slice(0, SHOWN).map((r, i) => (
        <li key={`${r.approvalId}-${i}`} className="error" role="alert">
          {decisionErrorText(r.error)} <Link to="/approvals">See it in the inbox</Link>{" "}
          <button type="button" className="link" onClick={r.dismiss}>
            Dismiss
          </button>
        </li>
      ))}
    </ul>
  );
}
