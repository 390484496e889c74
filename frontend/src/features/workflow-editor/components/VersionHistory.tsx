import { Panel } from "../../../components/ui/Panel";
import { ErrorText } from "../../../components/ui/QueryState";
import { relativeTime } from "../../../lib/format";
import { newestFirst, type WorkflowVersion } from "../graph";

interface Props {
  versions: WorkflowVersion[] | null | undefined;
  current: number;
  viewing: number | null;
  canRestore: boolean;
  restoring: number | null;
  error: unknown;
  onView: (version: number | null) => void;
  onRestore: (version: WorkflowVersion) => void;
}

export function VersionHistory({ versions, current, viewing, canRestore, restoring, error, onView, onRestore }: Props) {
  const list = newestFirst(versions);
  return (
    <Panel title="Version history" id="workflow-versions">
      <ErrorText error={error} />
      {list.length === 0 ? (
        <p className="muted">No versions yet: saving the graph creates version 1.</p>
      ) : (
        <ol className="plain wf-versions" aria-label="Versions, newest first">
          {list.map((v) => {
            const isCurrent = v.version === current;
            const isViewed = v.version === viewing;
            return (
              <li
                key={v.version}
                className={`wf-version${isViewed ? " viewing" : ""}`}
                data-testid={`workflow-version-${v.version}`}
                aria-current={isCurrent ? "true" : undefined}
              >
                <div className="row spread">
                  <strong>v{v.version}</strong>
                  {isCurrent && <span className="badge badge-current">current</span>}
                  <time className="muted small" dateTime={v.createdAt} title={new Date(v.createdAt).toLocaleString()}>
                    {relativeTime(v.createdAt)}
                  </time>
                </div>
                {v.note && <p className="small wf-version-note">{v.note}</p>}
                {v.run_id && (
                  <p className="small muted">
                    run <code>{v.run_id}</code>
                  </p>
                )}
                <p className="muted small">
                  {v.nodes.length} node{v.nodes.length === 1 ? "" : "s"}, {v.edges.length} connection
                  {v.edges.length === 1 ? "" : "s"}
                </p>
                <div className="row">
                  <button
                    type="button"
                    className="secondary small-btn"
                    aria-pressed={isViewed}
                    title={`Show version ${v.version} in the graph (read-only)`}
                    onClick={() => onView(isViewed ? null : v.version)}
                  >
                    View
                  </button>
                  {canRestore && !isCurrent && (
                    <button
                      type="button"
                      className="small-btn"
                      title={`Save version ${v.version}'s nodes and connections as a new version`}
                      disabled={restoring !== null}
                      onClick={() => onRestore(v)}
                    >
                      {restoring === v.version ? "Restoring…" : "Restore"}
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </Panel>
  );
}
