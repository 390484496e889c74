import { Link } from "react-router-dom";
import { Badge } from "../../../components/ui/Badge";
import { Panel } from "../../../components/ui/Panel";
import { dateTime } from "../format";
import type { Run, RunLink } from "../queries";

function LinkedRun({ link }: { link: RunLink }) {
  return (
    <li className="row">
      <Badge value={link.status} />
      <Link to={`/runs/${encodeURIComponent(link.run_id)}`}>{link.run_id}</Link>
      <span className="muted small">
        {link.agent_id} · {link.kind} · {dateTime(link.created_at)}
      </span>
    </li>
  );
}

/** The run that delegated to this one and the runs this one delegated. */
export function RunRelations({ run }: { run: Run }) {
  const children = run.child_runs ?? [];
  if (!run.parent && children.length === 0) return null;
  return (
    <Panel title="Related runs" id="run-related">
      {run.parent && (
        <div>
          <h3 className="small">Parent</h3>
          <ul className="plain">
            <LinkedRun link={run.parent} />
          </ul>
        </div>
      )}
      {children.length > 0 && (
        <div>
          <h3 className="small">Child runs</h3>
          <ul className="plain">
            {children.map((c) => (
              <LinkedRun key={c.run_id} link={c} />
            ))}
          </ul>
        </div>
      )}
    </Panel>
  );
}
