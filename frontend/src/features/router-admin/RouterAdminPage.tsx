import { Link } from "react-router-dom";
import { Panel } from "../../components/ui/Panel";

/** Placeholder: the LLM router's admin views are the next step (SPEC §8, issue 6 item 5). */
export function RouterAdminPage() {
  return (
    <div className="page-narrow">
      <Panel title="Router Admin">
        <p>Coming next, for the LLM router:</p>
        <ul>
          <li>metric cards: requests, tokens, cost and error rate, per model;</li>
          <li>usage over time as charts (cost and tokens per day, by model, tenant or agent) and a filterable usage table;</li>
          <li>rules and budgets editors that validate before saving and show the server's errors inline;</li>
          <li>spend against each cap as a bar.</li>
        </ul>
        <p>
          <Link to="/">Back to Mission Control</Link>
        </p>
      </Panel>
    </div>
  );
}
